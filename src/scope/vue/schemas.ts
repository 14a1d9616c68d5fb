/** The query of `GET /scope/vue/{uai}`: validated by the route, published by the OpenAPI document. */
import { z } from 'zod';
import { dateParameterSchema } from '../../domain/dates.js';

export const vueQuerySchema = z.object({
  semaine: dateParameterSchema('semaine')
    .optional()
    .describe('Any date of the week to show, YYYY-MM-DD; default: the current week of the school'),
  cours: z.string().max(256).optional().describe('Lesson id to highlight (links of the data-quality panel)'),
});
