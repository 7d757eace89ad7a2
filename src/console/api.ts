// The console API client: one fetch per call to /api/... on the page's own origin. An API
// error ({error: {name, message}}) becomes an ApiError with the broker's code name, shown
// as is (the same names the CLI prints).

import type * as T from '../http/console-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

async function call<R>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<R> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (method !== 'GET') {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(`/api${path}`, init);
  const answer = (await response.json()) as R | T.ApiError;
  if (!response.ok) {
    const error = (answer as T.ApiError).error;
    throw new ApiError(response.status, error?.name ?? String(response.status), error?.message ?? response.statusText);
  }
  return answer as R;
}

const name = encodeURIComponent;

export const api = {
  overview: () => call<T.Overview>('GET', '/overview'),
  topics: () => call<{ topics: T.TopicSummary[] }>('GET', '/topics'),
  topic: (topic: string) => call<T.TopicDetail>('GET', `/topics/${name(topic)}`),
  createTopic: (topic: string, partitions: number, config: Record<string, string>) => call<{ created: string }>('POST', '/topics', { name: topic, partitions, config }),
  deleteTopic: (topic: string) => call<{ deleted: string }>('DELETE', `/topics/${name(topic)}`),
  alterConfig: (topic: string, config: Record<string, string>) => call<T.TopicConfig>('POST', `/topics/${name(topic)}/config`, { config }),
  addPartitions: (topic: string, count: number) => call<{ partitions: number }>('POST', `/topics/${name(topic)}/partitions`, { count }),
  produce: (topic: string, partition: number, key: string | null, value: string | null, headers: Record<string, string>) =>
    call<{ partition: number; offset: number }>('POST', `/topics/${name(topic)}/messages`, { partition, key, value, headers }),
  messages: (topic: string, partition: number, before: number | null, limit: number) =>
    call<T.MessagesPage>('GET', `/topics/${name(topic)}/messages?partition=${partition}&limit=${limit}${before === null ? '' : `&before=${before}`}`),
  offsetForTime: (topic: string, partition: number, timestamp: number) => call<{ offset: number; timestamp: number }>('GET', `/topics/${name(topic)}/offsets?partition=${partition}&timestamp=${timestamp}`),
  groups: () => call<{ groups: T.GroupListing[] }>('GET', '/groups'),
  group: (groupId: string) => call<T.GroupDescription>('GET', `/groups/${name(groupId)}`),
  shareGroups: () => call<{ groups: T.ShareGroupListing[] }>('GET', '/share-groups'),
  shareGroup: (groupId: string) => call<T.ShareGroupDetail>('GET', `/share-groups/${name(groupId)}`),
  resetGroup: (groupId: string, topic: string, to: T.ResetTarget, dryRun: boolean) => call<T.ResetResult>('POST', `/groups/${name(groupId)}/reset`, { topic, to, dryRun }),
};
