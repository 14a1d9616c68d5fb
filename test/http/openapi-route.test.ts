/**
 * The declared-route machinery itself (src/http/openapi-route.ts, test/helpers/documented.ts):
 * parameter failures answer the project's problem body naming the parameter and its location,
 * the route's middleware runs before the validators, and the response check refuses an
 * undocumented status and a body off its schema.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { uaiParameterSchema } from '../../src/domain/uai.js';
import { ApiRoutes, createRoute, jsonResponse, problemResponses } from '../../src/http/openapi-route.js';
import { expectDocumented } from '../helpers/documented.js';

const route = createRoute({
  method: 'get',
  path: '/things/{uai}',
  request: {
    params: z.object({ uai: uaiParameterSchema('uai (path)') }),
    query: z.object({ n: z.string().regex(/^\d+$/), flag: z.enum(['a', 'b']).optional() }),
  },
  responses: {
    200: jsonResponse('A thing', z.strictObject({ uai: z.string(), n: z.int() })),
    ...problemResponses(400, 404),
  },
});

function app() {
  const routes = new ApiRoutes();
  routes.add({
    route,
    middleware: [
      async (c, next) => {
        if (c.req.query('hidden') !== undefined) return c.json({ errors: [] }, 404);
        await next();
      },
    ],
    handler: (c) => c.json({ uai: c.req.param('uai') ?? '', n: Number(c.req.query('n')) }),
  });
  return routes.app;
}

describe('declared routes', () => {
  it('answer parameter failures with the problem body, one problem per parameter', async () => {
    const res = await app().request('/things/0670999Y?flag=c');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      errors: [
        { code: 'parameter-missing', message: expect.any(String), where: 'n (query)' },
        { code: 'bad-parameter', message: expect.any(String), where: 'flag (query)' },
      ],
    });
    const uai = await app().request('/things/0670999Y?n=1');
    expect(await uai.json()).toEqual({
      errors: [
        {
          code: 'bad-uai',
          message: 'UAI 0670999Y has a wrong check letter: expected 0670999X',
          where: 'uai (path)',
        },
      ],
    });
  });

  it('run the route middleware before the validators', async () => {
    expect((await app().request('/things/bad?hidden')).status).toBe(404);
    expect((await app().request('/things/0670999X?n=2')).status).toBe(200);
  });

  it('check responses against the declaration: status and body', async () => {
    await expectDocumented(route, Response.json({ uai: '0670999X', n: 2 }));
    await expect(expectDocumented(route, Response.json({ uai: '0670999X' }))).rejects.toThrow(
      /does not match the documented schema/,
    );
    await expect(expectDocumented(route, Response.json({ errors: [] }, { status: 409 }))).rejects.toThrow(
      /status not documented/,
    );
  });
});
