/**
 * JSON Schemas published for editors and integrators, generated from the zod schemas that
 * validate the same documents (one source for types, validation and docs). Written to
 * docs/schemas/ by `npm run schemas`; a test keeps the committed files equal to these.
 */
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import { devicesJsonSchema } from '../devices/schema.js';
import { timetableSchema } from '../domain/timetable.js';
import { rulesJsonSchema } from '../rules/schema.js';

export const SCHEMA_BASE_URL = 'https://scope-energie.example.org/schemas/';

export function publishedSchemas(): Record<string, Record<string, unknown>> {
  const withId = (name: string, title: string, schema: Record<string, unknown>) => ({
    $id: `${SCHEMA_BASE_URL}${name}`,
    title,
    ...schema,
  });
  return {
    'scope-emploi-du-temps-v1.json': withId(
      'scope-emploi-du-temps-v1.json',
      'scope-emploi-du-temps/v1: a school timetable for SCOPE-ENTRÉE (native JSON)',
      z.toJSONSchema(timetableSchema, { io: 'input' }) as Record<string, unknown>,
    ),
    'devices.json': withId(
      'devices.json',
      'devices/{uai}.yaml: a school, its gateways and zones',
      devicesJsonSchema(),
    ),
    'rules.json': withId(
      'rules.json',
      'rules/*.yaml: energy rules with their legal or local basis',
      rulesJsonSchema(),
    ),
    'config.json': withId(
      'config.json',
      'config/*.yaml: scope-energie service settings',
      z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>,
    ),
  };
}
