// The job-record API for operators: a closed ticket's signed record, and the center's record key to check it with.
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ROUTES } from '../../protocol/routes.ts';
import { ErrorBodySchema, RowId } from '../../protocol/schemas/common.ts';
import { RecordKeyView, SignedJobRecordSchema } from '../../protocol/schemas/job-record.ts';
import { recordKey } from '../record-key.ts';
import { getJobRecord } from '../views/record-views.ts';
import type { ApiDeps } from './deps.ts';

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema };
const security = [{ operatorToken: [] }];
const config = { auth: 'operator' } as const;

export async function recordRoutes(scope: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { ctx } = deps;
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/tickets/:ticket/record', { config, schema: { summary: "A closed ticket's job record, signed by the center", tags: ['operator'], security, params: Type.Object({ ticket: RowId }), response: { 200: SignedJobRecordSchema, ...errors } } },
    async (request) => getJobRecord(ctx.db, request.params.ticket));
  app.get(ROUTES.recordKey, { config, schema: { summary: "The center's job-record key (Ed25519): checks the center's copies", tags: ['operator'], security, response: { 200: RecordKeyView, ...errors } } },
    async () => ({ alg: 'Ed25519' as const, key: (await recordKey(ctx.db, ctx.now)).publicText }));
}
