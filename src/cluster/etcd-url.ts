// The --cluster flag: `etcd://host:port[,host:port...][/root]`. The optional path is the key
// root, so several spool clusters can share one etcd (default root /spool).

export interface ClusterAddress {
  readonly endpoints: readonly string[];
  /** The key root, with a leading and no trailing slash: '/spool'. */
  readonly root: string;
}

export const DEFAULT_CLUSTER_ROOT = '/spool';

export function parseClusterUrl(value: string): ClusterAddress {
  const match = /^etcd:\/\/([^/]+)(\/[A-Za-z0-9._\-/]*)?$/.exec(value);
  if (!match) throw new RangeError(`--cluster must be etcd://host:port[,host:port...][/root], got '${value}'`);
  const endpoints = match[1]!.split(',');
  for (const endpoint of endpoints) {
    const hostPort = /^(?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(endpoint);
    if (!hostPort || Number(hostPort[1]) > 65535) throw new RangeError(`--cluster: '${endpoint}' is not host:port`);
  }
  const root = (match[2] ?? '').replace(/\/+$/, '');
  return { endpoints, root: root === '' ? DEFAULT_CLUSTER_ROOT : root };
}
