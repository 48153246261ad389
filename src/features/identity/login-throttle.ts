import net from 'node:net';

/**
 * How failed sign-ins slow the next ones down (see docs/decisions.md, "Sign-in throttling by
 * client address"). Three counters take every failure:
 *
 * - `pair`: one account from one address. The attacker's own address pays; the owner at another
 *   address never waits for it.
 * - `address`: one address, any account, so trying a fresh e-mail each time is slowed too.
 * - `account`: one account, any address, a far weaker ceiling against many addresses at once.
 *
 * Each counter leaks one failure per `leakSeconds`, so the leak rate is the sustained rate of
 * guesses it allows. From `threshold` failures on, the next attempt waits `baseSeconds`, doubling
 * per further failure up to `maxSeconds`. An attempt refused for waiting is not counted.
 *
 * The numbers:
 * - pair 5 / 15 min: a person mistyping gets five tries, then 30 s, 1 min, 2 min… at most 15 min;
 *   an attacker settles at one guess per 15 min per account and address (4 an hour).
 * - address 20 / 3 min: an institution behind one NAT address makes far fewer than 20 wrong
 *   sign-ins an hour between all its people, so its count never builds up; one address trying
 *   many accounts settles at 20 guesses an hour in all.
 * - account 100 / 90 s (40 an hour): each address adds at most about 10 failures in its first
 *   quarter hour (5 free, then 30 s, 1, 2, 4, 8 min) and 4 an hour after that, so fewer than ten
 *   addresses can never reach 100; a botnet of any size gets 40 guesses an hour at one account.
 *   It does not apply at an address the account signed in from within `knownAddressDays`, so
 *   the owner at their usual address is never made to wait by anyone else's failures.
 */
export const LOGIN_THROTTLE = {
  pair: { threshold: 5, leakSeconds: 15 * 60, baseSeconds: 30, maxSeconds: 15 * 60 },
  address: { threshold: 20, leakSeconds: 3 * 60, baseSeconds: 30, maxSeconds: 15 * 60 },
  account: { threshold: 100, leakSeconds: 90, baseSeconds: 30, maxSeconds: 15 * 60 },
  knownAddressDays: 90,
} as const;

export type ThrottleRule = (typeof LOGIN_THROTTLE)['pair' | 'address' | 'account'];

/** The address of a sign-in that did not come over the network (the operator's CLI, tests). */
export const LOCAL_CLIENT = 'local';

/** The key an e-mail address is counted under: as typed, any case, whether or not it has an account ('' means any account). */
export function accountKey(email: string): string {
  return email.toLowerCase().slice(0, 254) || '@';
}

/**
 * The key a client address is counted under. Whoever holds one IPv6 address usually holds its
 * whole /64 (2^64 addresses to rotate through), so IPv6 counts by that prefix; an IPv4 address
 * written as IPv6 (::ffff:192.0.2.1) counts as itself.
 */
export function addressKey(ip: string): string {
  const address = ip.trim().split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address.slice(0, 100) || LOCAL_CLIENT;
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const [head = '', tail] = address.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
