/** The query of `GET /scope/vue/{uai}`: validated by the route, published by the OpenAPI document. */
import { z } from 'zod';
import { dateParameterSchema } from '../../domain/dates.js';
import { FINDING_CODES } from './data-quality.js';

export const vueQuerySchema = z.object({
  semaine: dateParameterSchema('semaine')
    .optional()
    .describe('Any date of the week to show, YYYY-MM-DD; default: the current week of the school'),
  cours: z.string().max(256).optional().describe('Lesson id to highlight (links of the data-quality panel)'),
  constat: z
    .enum(FINDING_CODES)
    .optional()
    .describe('The data-quality finding whose items `page` pages through (100 items a page)'),
  page: z
    .string()
    .regex(/^[1-9]\d{0,5}$/, 'page is a whole number from 1')
    .transform(Number)
    .optional()
    .describe('Page of the `constat` finding’s items, from 1 (past the last: the last)'),
});
