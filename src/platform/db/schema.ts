/**
 * Table types for Kysely, one interface per table in migrations/. BIGINT and
 * NUMERIC columns arrive as strings (see database.ts) and are turned into
 * bigint by the repositories; never into numbers.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Int8 = ColumnType<string, bigint | string | number, bigint | string | number>;
type Json<T extends object | null = Record<string, unknown>> = JSONColumnType<T, string, string>;

export type { Role } from '../../core/roles.js';
import type { Role } from '../../core/roles.js';
export type Unit = 'g' | 'mg' | 'mL' | 'count';
export type SampleState =
  | 'available'
  | 'reserved'
  | 'on_loan'
  | 'in_transit'
  | 'returned'
  | 'consumed'
  | 'destroyed'
  | 'quarantined';
export type MovementKind =
  | 'create'
  | 'split-out'
  | 'split-in'
  | 'loss'
  | 'reserve'
  | 'release'
  | 'consume'
  | 'ship'
  | 'receive'
  | 'return'
  | 'adjust'
  | 'destroy'
  | 'move'
  | 'state';
export type LocationKind = 'site' | 'room' | 'freezer' | 'cabinet' | 'rack' | 'shelf' | 'box';

export interface InstitutionTable {
  id: string;
  code: string;
  name: string;
  parent_body: string | null;
  created_at: Generated<Date>;
}

export interface UserTable {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  institution_id: string | null;
  roles: ColumnType<Role[], Role[], Role[]>;
  disabled_at: Timestamp | null;
  created_at: Generated<Date>;
}

export interface AuthTokenTable {
  id: string;
  user_id: string | null;
  kind: 'session' | 'api' | 'setup';
  name: string | null;
  token_hash: string;
  created_at: Generated<Date>;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditStreamTable {
  stream: string;
  seq: Int8;
  head_hash: string;
  /** When the newest event happened (migrations/0045); null for streams untouched since. */
  head_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AuditEventTable {
  id: string;
  stream: string;
  seq: Int8;
  occurred_at: Timestamp;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  data: Json;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditSealTable {
  seq: Int8;
  sealed_at: Timestamp;
  heads: Json<Record<string, { seq: string; hash: string }>>;
  prev_hash: string;
  hash: string;
  /** Ed25519 signature of `hash` (base64) and the signing key's id; null on seals written before signing (migrations/0045). */
  key_id: ColumnType<string | null, string | null | undefined, string | null>;
  signature: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuditSealedStreamTable {
  stream: string;
  seq: Int8;
  hash: string;
}

export interface CollectionTable {
  id: string;
  code: string;
  name: string;
  description: string | null;
  unit: Unit;
  scale: number;
  human_consent: boolean;
  kinds: ColumnType<string[], string[] | undefined, string[]>;
  biosafety_level: number | null;
  institution_id: string | null;
  next_number: Generated<number>;
  created_at: Generated<Date>;
}

export interface LocationTable {
  id: string;
  parent_id: string | null;
  kind: LocationKind;
  code: string;
  name: string;
  rows: number | null;
  cols: number | null;
  created_at: Generated<Date>;
}

export interface SampleTable {
  id: string;
  collection_id: string;
  identifier: string;
  kind: string;
  quantity: Int8;
  reserved: ColumnType<string, bigint | string | undefined, bigint | string>;
  state: ColumnType<SampleState, SampleState | undefined, SampleState>;
  parent_id: string | null;
  root_id: string;
  next_split: Generated<number>;
  location_id: string | null;
  position: string | null;
  attributes: Json;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Set (and cascaded down the lineage) when the donor withdraws consent; see migrations/0040. */
  consent_withdrawn: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ReservationTable {
  id: string;
  sample_id: string;
  quantity: Int8;
  application_id: string | null;
  note: string | null;
  state: ColumnType<'active' | 'released' | 'fulfilled', 'active' | 'released' | 'fulfilled' | undefined>;
  created_by: string | null;
  created_at: Generated<Date>;
  closed_at: Timestamp | null;
}

export interface MovementTable {
  id: string;
  sample_id: string;
  root_id: string;
  kind: MovementKind;
  delta: Int8;
  reserved_delta: Int8;
  quantity_after: Int8;
  reserved_after: Int8;
  counterpart_id: string | null;
  reservation_id: string | null;
  state_after: SampleState;
  reason: string | null;
  actor_id: string | null;
  request_id: string | null;
  occurred_at: Generated<Date>;
  seq: Generated<string>;
}

export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  scope: string;
  request_hash: string;
  status: number | null;
  response: Json<object> | null;
  created_at: Generated<Date>;
}

export interface JobTable {
  id: string;
  kind: string;
  state: ColumnType<'queued' | 'running' | 'succeeded' | 'failed', 'queued' | 'running' | undefined>;
  done: Int8;
  total: Int8 | null;
  message: string | null;
  result: Json<object> | null;
  error: Json<object> | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type CallState = 'draft' | 'open' | 'closed' | 'in_review' | 'decided' | 'distributed' | 'archived';
export type ApplicationState =
  | 'draft'
  | 'submitted'
  | 'in_review'
  | 'approved'
  | 'partially_approved'
  | 'rejected'
  | 'allocated'
  | 'shipped'
  | 'received'
  | 'reporting'
  | 'closed'
  | 'withdrawn';

export interface CallTable {
  id: string;
  collection_id: string;
  title: string;
  description: string | null;
  state: ColumnType<CallState, CallState | undefined, CallState>;
  opens_at: Timestamp;
  closes_at: Timestamp;
  review_deadline: Timestamp | null;
  reserve_bp: number;
  blind: boolean;
  reviewers_per_application: number;
  research_directions: ColumnType<string[], string[] | undefined, string[]>;
  score_min: number;
  score_max: number;
  chair_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CallCriterionTable {
  call_id: string;
  key: string;
  name: string;
  description: string | null;
  weight: number;
  position: number;
}

export interface CallInstitutionTable {
  call_id: string;
  institution_id: string;
}

export interface CallPanelTable {
  call_id: string;
  reviewer_id: string;
  added_at: Generated<Date>;
}

export interface CallPoolSampleTable {
  call_id: string;
  sample_id: string;
  kind: string;
  quantity: Int8;
}

export interface CallPoolKindTable {
  call_id: string;
  kind: string;
  total: Int8;
  releasable: Int8;
}

export interface ApplicationTable {
  id: string;
  call_id: string;
  applicant_id: string;
  institution_id: string;
  state: ColumnType<ApplicationState, ApplicationState | undefined, ApplicationState>;
  title: string;
  research_direction: string | null;
  research_direction_other: string | null;
  methods: string | null;
  destructive: boolean;
  justification: string | null;
  team: Json<Array<{ name: string; role?: string; institution?: string }>>;
  publications: Json<Array<{ citation: string; doi?: string }>>;
  ethics_reference: string | null;
  decision: 'approved' | 'partially_approved' | 'rejected' | null;
  submitted_at: Timestamp | null;
  withdrawn_at: Timestamp | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  decision_rationale: string | null;
  decision_letter: string | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ApplicationItemTable {
  application_id: string;
  kind: string;
  quantity: Int8;
  minimum: Int8;
  approved: Int8 | null;
  position: number;
}

export interface ApplicationAttachmentTable {
  id: string;
  application_id: string;
  display_name: string;
  media_type: 'application/pdf';
  size_bytes: number;
  sha256: string;
  content: Buffer;
  uploaded_by: string | null;
  created_at: Generated<Date>;
}

export interface ReviewTable {
  id: string;
  call_id: string;
  application_id: string;
  application_institution_id: string;
  reviewer_id: string;
  reviewer_institution_id: string | null;
  state: ColumnType<'assigned' | 'submitted' | 'recused', 'assigned' | 'submitted' | 'recused' | undefined>;
  comments_for_applicant: string | null;
  confidential_notes: string | null;
  assigned_by: string | null;
  assigned_how: 'manual' | 'auto';
  assigned_at: Generated<Date>;
  submitted_at: Timestamp | null;
  reminded_at: Timestamp | null;
  updated_at: Generated<Date>;
}

export interface ReviewScoreTable {
  review_id: string;
  criterion_key: string;
  score: number;
  comment: string | null;
}

export interface ReviewConflictTable {
  id: string;
  call_id: string;
  reviewer_id: string;
  application_id: string | null;
  institution_id: string | null;
  reason: string;
  declared_by: string | null;
  created_at: Generated<Date>;
}

export interface NotificationTable {
  id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  entity_type: string | null;
  entity_id: string | null;
  created_at: Generated<Date>;
  read_at: Timestamp | null;
}

export interface MailOutboxTable {
  id: string;
  notification_id: string | null;
  to_address: string;
  subject: string;
  body: string;
  state: ColumnType<'pending' | 'sent' | 'failed', 'pending' | undefined>;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Generated<Date>;
  created_at: Generated<Date>;
  sent_at: Timestamp | null;
}

export type ShipmentState = 'prepared' | 'packed' | 'dispatched' | 'received' | 'cancelled';
export type ItemCondition = 'intact' | 'damaged' | 'missing';

export interface ShipmentTable {
  id: string;
  reference: string;
  application_id: string;
  state: ColumnType<ShipmentState, ShipmentState | undefined, ShipmentState>;
  note: string | null;
  loan_due_at: Timestamp | null;
  report_due_at: Timestamp | null;
  courier: string | null;
  tracking_number: string | null;
  receipt_note: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  packed_at: Timestamp | null;
  packed_by: string | null;
  dispatched_at: Timestamp | null;
  dispatched_by: string | null;
  received_at: Timestamp | null;
  received_by: string | null;
  cancelled_at: Timestamp | null;
  updated_at: Generated<Date>;
}

export interface ShipmentItemTable {
  shipment_id: string;
  sample_id: string;
  reservation_id: string;
  quantity: Int8;
  position: number;
  received_quantity: Int8 | null;
  condition: ItemCondition | null;
  receipt_note: string | null;
  cancelled: Generated<boolean>;
}

export interface ShipmentEventTable {
  id: string;
  shipment_id: string;
  kind: 'created' | 'packed' | 'dispatched' | 'received' | 'cancelled' | 'incident-opened' | 'incident-resolved';
  actor_id: string | null;
  occurred_at: Generated<Date>;
  data: Json;
  seq: Generated<string>;
}

export interface ShipmentIncidentTable {
  id: string;
  shipment_id: string;
  application_id: string;
  sample_id: string;
  kind: 'quantity' | 'condition' | 'missing';
  expected: Int8;
  found: Int8;
  condition: ItemCondition;
  description: string;
  state: ColumnType<'open' | 'resolved', 'open' | 'resolved' | undefined>;
  action: 'accept' | 'adjust' | null;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
  created_at: Generated<Date>;
}

export interface LoanTable {
  id: string;
  application_id: string;
  applicant_id: string;
  institution_id: string;
  state: ColumnType<'open' | 'closed', 'open' | 'closed' | undefined>;
  due_at: Timestamp;
  report_due_at: Timestamp;
  due_reminded_at: Timestamp | null;
  report_reminded_at: Timestamp | null;
  overdue_notified_at: Timestamp | null;
  opened_at: Generated<Date>;
  closed_at: Timestamp | null;
  closed_by: string | null;
  close_note: string | null;
  updated_at: Generated<Date>;
}

export interface LoanSampleTable {
  loan_id: string;
  sample_id: string;
  shipment_id: string;
  quantity: Int8;
}

export interface LoanEntryTable {
  id: string;
  loan_id: string;
  sample_id: string;
  kind: 'return' | 'consume';
  quantity: Int8;
  returned_sample_id: string | null;
  condition: 'intact' | 'damaged' | null;
  note: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  received_at: Date | null;
  received_by: string | null;
  received_quantity: Int8 | null;
  received_condition: 'intact' | 'damaged' | null;
  receipt_note: string | null;
}

export interface LoanReportTable {
  id: string;
  loan_id: string;
  summary: string;
  filed_by: string | null;
  filed_at: Generated<Date>;
}

export interface LoanPublicationTable {
  id: string;
  loan_id: string;
  doi: string;
  title: string;
  acknowledgement: string;
  registered_by: string | null;
  registered_at: Generated<Date>;
}

export type AllocationState = 'draft' | 'approved' | 'executed' | 'superseded';

export interface AllocationTable {
  id: string;
  call_id: string;
  state: Generated<AllocationState>;
  solver: 'highs' | 'greedy';
  solver_status: string | null;
  fallback_reason: string | null;
  edited: Generated<boolean>;
  objective: number;
  greedy_objective: number;
  bound: number | null;
  elapsed_ms: number;
  min_cut: Int8;
  max_pieces: number;
  cap_per_kind: Int8 | null;
  cap_total: Int8 | null;
  note: string | null;
  offer: Json<Array<{ kind: string; releasable: string }>>;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  approved_by: string | null;
  approved_at: Timestamp | null;
  executed_by: string | null;
  executed_at: Timestamp | null;
}

export interface AllocationItemTable {
  allocation_id: string;
  application_id: string;
  kind: string;
  institution_id: string;
  requested: Int8;
  minimum: Int8;
  score: number;
  rank: number;
  allocated: Int8;
  outcome: 'full' | 'partial' | 'none';
  reason: string;
  params: Json;
  explanation: string;
  /** The samples consent kept from the item (see migrations/0041). */
  exclusions: ColumnType<unknown[], string | undefined, string>;
}

export interface AllocationLineTable {
  id: string;
  allocation_id: string;
  application_id: string;
  kind: string;
  sample_id: string;
  quantity: Int8;
  child_sample_id: string | null;
  reservation_id: string | null;
}

/** Failed sign-ins per e-mail address (migrations/0035). */
/** Failed sign-ins per key (migrations/0042): account '' is any account, address '' any address. */
export interface LoginFailureTable {
  account: string;
  address: string;
  failures: ColumnType<string, string | number, string | number>;
  last_failed_at: Generated<Date>;
  wait_until: Date | null;
}

/** Addresses an account signed in from (kept 90 days): there only that address's own failures make its owner wait. */
export interface LoginKnownAddressTable {
  account: string;
  address: string;
  last_signed_in_at: Generated<Date>;
}

export interface Database {
  institutions: InstitutionTable;
  users: UserTable;
  auth_tokens: AuthTokenTable;
  login_failures: LoginFailureTable;
  login_known_addresses: LoginKnownAddressTable;
  audit_streams: AuditStreamTable;
  audit_events: AuditEventTable;
  audit_seals: AuditSealTable;
  audit_sealed_streams: AuditSealedStreamTable;
  collections: CollectionTable;
  locations: LocationTable;
  samples: SampleTable;
  reservations: ReservationTable;
  movements: MovementTable;
  idempotency_keys: IdempotencyKeyTable;
  jobs: JobTable;
  calls: CallTable;
  call_criteria: CallCriterionTable;
  call_institutions: CallInstitutionTable;
  call_panel: CallPanelTable;
  call_pool_samples: CallPoolSampleTable;
  call_pool_kinds: CallPoolKindTable;
  allocations: AllocationTable;
  allocation_items: AllocationItemTable;
  allocation_lines: AllocationLineTable;
  applications: ApplicationTable;
  application_items: ApplicationItemTable;
  application_attachments: ApplicationAttachmentTable;
  reviews: ReviewTable;
  review_scores: ReviewScoreTable;
  review_conflicts: ReviewConflictTable;
  notifications: NotificationTable;
  mail_outbox: MailOutboxTable;
  shipments: ShipmentTable;
  shipment_items: ShipmentItemTable;
  shipment_events: ShipmentEventTable;
  shipment_incidents: ShipmentIncidentTable;
  loans: LoanTable;
  loan_samples: LoanSampleTable;
  loan_entries: LoanEntryTable;
  loan_reports: LoanReportTable;
  loan_publications: LoanPublicationTable;
  donors: DonorTable;
  consents: ConsentTable;
  specimens: SpecimenTable;
  networks: NetworkTable;
  network_members: NetworkMemberTable;
  application_uses: ApplicationUseTable;
}

export interface DonorTable {
  id: string;
  code: string;
  collection_id: string;
  collected_on: ColumnType<string | null, string | null | undefined, string | null>;
  collection_site: string | null;
  diagnoses: ColumnType<string[], string[] | undefined, string[]>;
  consent_withdrawn_at: Timestamp | null;
  created_by: string | null;
  created_at: Generated<Date>;
}

export interface ConsentTable {
  id: string;
  donor_id: string;
  scope: ColumnType<string[], string[] | undefined, string[]>;
  given_on: ColumnType<string, string, string>;
  form_version: string;
  withdrawn_at: Timestamp | null;
  withdrawal_reason: string | null;
  recorded_by: string | null;
  created_at: Generated<Date>;
}

export interface SpecimenTable {
  sample_id: string;
  donor_id: string;
  collection_method: string | null;
  body_site: string | null;
  collected_at: Timestamp | null;
  fixation: string | null;
  cold_ischaemia_minutes: number | null;
  storage_temperature_c: number | null;
  sprec: string | null;
  biosafety_level: number | null;
  created_at: Generated<Date>;
}

export interface NetworkTable {
  id: string;
  code: string;
  name: string;
  created_at: Generated<Date>;
}

export interface NetworkMemberTable {
  network_id: string;
  institution_id: string;
  joined_at: Generated<Date>;
}

export interface ApplicationUseTable {
  application_id: string;
  use: string;
}
