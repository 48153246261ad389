/**
 * The web app's API client is typed from web/src/api/openapi.json. When a
 * route changes and the committed document does not, this fails: run
 * `npm run gen:api` and commit web/src/api/openapi.json and schema.d.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApi, generateSchemaTypes, openApiPath, schemaPath } from '../scripts/gen-api.js';

describe('web API client types', () => {
  it('are generated from the OpenAPI document the server serves now (else run npm run gen:api)', async () => {
    const committed = readFileSync(openApiPath, 'utf8');
    const current = await generateOpenApi();
    expect(JSON.parse(committed), 'web/src/api/openapi.json is stale: run npm run gen:api').toEqual(JSON.parse(current));
    expect(readFileSync(schemaPath, 'utf8'), 'web/src/api/schema.d.ts is stale: run npm run gen:api').toBe(await generateSchemaTypes(committed));
  });
});
