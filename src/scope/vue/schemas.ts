/** The query of `GET /scope/vue/{uai}`: validated by the route, published by the OpenAPI document. */
import { z } from 'zod';

export const vueQuerySchema = z.object({
  semaine: z.iso
    .date({ error: (issue) => `"${String(issue.input)}" is not a date YYYY-MM-DD` })
    .optional()
    .describe('Any date of the week to show, YYYY-MM-DD; default: the current week of the school'),
  cours: z.string().max(256).optional().describe('Lesson id to highlight (links of the data-quality panel)'),
});
