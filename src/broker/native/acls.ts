// The native ACL and client-quota APIs (48-52) over the broker's SecurityStore. The shape
// check (protocol/validate.ts) has already limited every enum field to its names, so the
// wire strings are the domain's. Authorisation (Describe/Alter, DescribeConfigs/AlterConfigs
// on the cluster) is checked before these run (native/authorize.ts).

import { errorFields } from '../../protocol/errors.js';
import type * as M from '../../protocol/messages.js';
import type { AclBinding, AclFilter } from '../../security/acl.js';
import { isSpoolError } from '../../util/errors.js';
import type { BrokerContext, HandlerResponse } from '../context.js';

const asBinding = (wire: M.AclBindingWire): AclBinding => wire as AclBinding;
const asFilter = (wire: M.AclFilterWire): AclFilter => wire as AclFilter;

export function handleDescribeAcls(ctx: BrokerContext, request: M.DescribeAclsRequest): HandlerResponse {
  return { header: { errorCode: 0, acls: ctx.security.describeAcls(asFilter(request.filter)) } satisfies M.DescribeAclsResponse };
}

export async function handleCreateAcls(ctx: BrokerContext, request: M.CreateAclsRequest): Promise<HandlerResponse> {
  const errors = await ctx.securityWrites.createAcls(request.acls.map(asBinding));
  return { header: { errorCode: 0, results: errors.map((error) => (error === null ? { errorCode: 0 } : errorFields(error))) } satisfies M.CreateAclsResponse };
}

export async function handleDeleteAcls(ctx: BrokerContext, request: M.DeleteAclsRequest): Promise<HandlerResponse> {
  const removed = await ctx.securityWrites.deleteAcls(request.filters.map(asFilter));
  return { header: { errorCode: 0, results: removed.map((deleted) => ({ errorCode: 0, deleted })) } satisfies M.DeleteAclsResponse };
}

export function handleDescribeClientQuotas(ctx: BrokerContext): HandlerResponse {
  const quotas = ctx.security.listQuotas().map((entry) => ({ user: entry.entity.user, clientId: entry.entity.clientId, rates: entry.rates }));
  return { header: { errorCode: 0, quotas } satisfies M.DescribeClientQuotasResponse };
}

export async function handleAlterClientQuotas(ctx: BrokerContext, request: M.AlterClientQuotasRequest): Promise<HandlerResponse> {
  // Every entry checked on its own, the accepted ones written in one go (security-store.ts alterQuotas).
  const answers = await ctx.securityWrites.alterQuotas(request.entries.map((entry) => ({ entity: { user: entry.user, clientId: entry.clientId }, rates: entry.rates })));
  const results: M.ErrorFields[] = answers.map((error) => (error === null ? { errorCode: 0 } : errorFields(error)));
  return { header: { errorCode: 0, results } satisfies M.AlterClientQuotasResponse };
}
