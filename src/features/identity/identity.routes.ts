import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParam } from '../../platform/http/schemas.js';
import * as s from './identity.schemas.js';
import { SESSION_DAYS, type IdentityService } from './identity.service.js';

export const SESSION_COOKIE = 'sb_session';

/** The bearer token or the session cookie of a request. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return request.cookies?.[SESSION_COOKIE];
}

export function identityRoutes(identity: IdentityService, options: { cookieSecure: boolean; loginRateLimit: number }) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['identity'];

    app.post('/auth/login', {
      schema: { tags, summary: 'Sign in; answers a bearer token and sets the session cookie', body: s.loginInput, response: { 200: s.loginOutput } },
      config: { public: true, rateLimit: { max: options.loginRateLimit, timeWindow: '1 minute' } },
    }, async (request, reply) => {
      // request.ip follows the server's trustProxy setting: behind a proxy, the client's address, not the proxy's.
      const result = await identity.login(request.body.email, request.body.password, request.ip);
      setSessionCookie(reply, result.token, options.cookieSecure);
      return result;
    });

    app.post('/auth/logout', { schema: { tags, summary: 'Sign out (revokes the session or token used)' }, config: { public: true } }, async (request, reply) => {
      const credential = credentialOf(request);
      if (credential) await identity.logout(credential);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    app.get('/me', { schema: { tags, summary: 'The signed-in user', response: { 200: s.user } } }, async (request) => identity.me(request.actor));

    app.post('/me/password', {
      schema: { tags, summary: 'Change your password; ends every other session and API token of yours (the one used for this request stays)', body: s.passwordChangeInput },
    }, async (request, reply) => {
      await identity.changePassword(request.actor, request.body, credentialOf(request));
      return reply.code(204).send();
    });

    app.get('/auth/tokens', {
      schema: { tags, summary: 'Your API tokens', response: { 200: z.object({ items: z.array(z.object({ id: s.uuid, name: z.string(), createdAt: z.date(), expiresAt: z.date().nullable(), lastUsedAt: z.date().nullable() })) }) } },
    }, async (request) => ({ items: await identity.listApiTokens(request.actor) }));

    app.post('/auth/tokens', {
      schema: {
        tags,
        summary: `Create an API token (shown once); it expires after expiresInDays (default ${identity.apiTokenDays.default}, at most ${identity.apiTokenDays.max})`,
        body: s.tokenInput(identity.apiTokenDays.max),
        response: { 201: z.object({ id: s.uuid, name: z.string(), token: z.string(), createdAt: z.date(), expiresAt: z.date() }) },
      },
    }, async (request, reply) => reply.code(201).send(await identity.createApiToken(request.actor, request.body)));

    app.delete('/auth/tokens/:id', { schema: { tags, summary: 'Revoke an API token', params: idParam } }, async (request, reply) => {
      await identity.revokeApiToken(request.actor, request.params.id);
      return reply.code(204).send();
    });

    app.get('/institutions', { schema: { tags, summary: 'Research institutions', response: { 200: z.object({ items: z.array(s.institution) }) } } }, async (request) => ({
      items: await identity.listInstitutions(request.actor),
    }));

    app.post('/institutions', { schema: { tags, summary: 'Register an institution (admin)', body: s.institutionInput, response: { 201: s.institution } } }, async (request, reply) =>
      reply.code(201).send(await identity.createInstitution(request.actor, request.body)),
    );

    app.get('/users', { schema: { tags, summary: 'Users (admin); q finds part of an e-mail address or name', querystring: s.userQuery, response: { 200: z.object({ items: z.array(s.user), nextCursor: z.string().nullable() }) } } }, async (request) =>
      identity.listUsers(request.actor, request.query),
    );

    app.post('/users', { schema: { tags, summary: 'Create a user (admin)', body: s.userInput, response: { 201: s.user } } }, async (request, reply) =>
      reply.code(201).send(await identity.createUser(request.actor, request.body)),
    );

    app.get('/users/:id', { schema: { tags, summary: 'A user (admin, or yourself)', params: idParam, response: { 200: s.user } } }, async (request) =>
      identity.getUser(request.actor, request.params.id),
    );

    app.patch('/users/:id', {
      schema: {
        tags,
        summary: 'Change a user: name, institution, roles, or disable / enable the account (admin). Disabling revokes their sessions and API tokens; the last enabled admin stays one.',
        params: idParam,
        body: s.userUpdate,
        response: { 200: s.user },
      },
    }, async (request) => identity.updateUser(request.actor, request.params.id, request.body));

    app.post('/users/:id/password', {
      schema: { tags, summary: "Set a new password for a user who lost theirs (admin); revokes all their sessions and API tokens", params: idParam, body: s.passwordResetInput },
    }, async (request, reply) => {
      await identity.resetPassword(request.actor, request.params.id, request.body.password);
      return reply.code(204).send();
    });
  };
}

function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure, maxAge: SESSION_DAYS * 24 * 3600 });
}
