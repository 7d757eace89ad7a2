// Cluster mode's wiring between the cluster layer (src/cluster: roles from etcd) and the
// broker core's replica manager (core/replica-fetch.ts), Kafka's ReplicaManager.becomeLeaderOrFollower
// reduced to what spool needs:
//
// - ClusterPartitionStates is the core's ReplicaState. It exists before the broker starts
//   (the core needs one at start-up; the cluster joins once the listener has its port) and
//   answers "no leader" for every partition until attachCluster connects it to the roles.
// - ClusterReplication follows every role change: the core hears stateChanged (acks=all
//   waiters of a lost leadership fail), a new leader takes up its epoch at once, a follower
//   runs one ReplicaFetcher (src/cluster/replica-fetcher.ts: truncate by OffsetForLeaderEpoch,
//   then fetch) per leader broker, over one connection, holding every partition it follows
//   from that leader (added and removed as roles change; a partition moving between fetchers
//   joins the new one once the old one let go of its log), and a local partition log is
//   created when a role for an unknown topic arrives (the topic's spec in etcd gives
//   partitions and configs).
// - A replica this broker no longer holds (reassigned away) is deleted locally once its
//   fetcher ended: the whole local topic when no replica of it is left here, else that
//   partition's records (storage's deletePartition); at attach, replicas moved away while
//   this broker was down, and topics deleted in etcd meanwhile, are deleted the same way.
//   Only what the data directory's record (cluster-replica-record.ts) lists as assigned here
//   in this cluster is ever deleted: a local log that was never part of this cluster (a
//   single node's data joining, a same-named topic) is kept, with a warning at attach, and a
//   whole topic goes only when every local partition with records is one the record lists.
// - The leader's ISR: every lag/4 it drops followers not caught up for replica.lag.time.max.ms
//   and adds back followers at the high watermark, by alterIsr (a CAS in etcd).
// - The lease: on 'lost' every waiting acks=all fails at once; the core also checks
//   leaseValid() before each append and acknowledgement (timers fire late after a SIGSTOP).
//
// Only type imports of src/cluster's etcd side: nothing here loads the etcd client.

import { performance } from 'node:perf_hooks';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { ReplicaFetcher } from '../cluster/replica-fetcher.js';
import type { PartitionRole, RoleChange } from '../cluster/replica-roles.js';
import { ReplicationThrottle } from '../cluster/replication-throttle.js';
import { parseTopicConfig, topicConfigToRecord } from '../storage/config.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type { BrokerContext, ClusterAdmin } from './context.js';
import type { PartitionReplicaState, ReplicaManager, ReplicaState } from './core/replica-fetch.js';
import { quoted } from './logger.js';
import { NativeLeaderChannel } from './replica-channel.js';
import type { ClusterReplicaRecord } from './cluster-replica-record.js';
import { plaintextPeerSecurity, type PeerSecurity } from './peer-connection.js';

/** Kafka's replica.lag.time.max.ms default. */
export const DEFAULT_REPLICA_LAG_TIME_MAX_MS = 10_000;

const NO_LEADER_STATE: PartitionReplicaState = Object.freeze({ leaderId: -1, leaderEpoch: -1, isr: Object.freeze([]) as readonly number[] });
/** A topic config the controller reads (the spec's minInsyncReplicas), not storage's. */
const CLUSTER_ONLY_CONFIGS = new Set(['min.insync.replicas']);

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The core's ReplicaState in cluster mode (see the file comment). */
export class ClusterPartitionStates implements ReplicaState {
  private node: ClusterNode | null = null;

  /** Local topics: true when the storage has the topic (set by the broker once open). */
  hasLocalTopic: (topic: string) => boolean = () => false;

  attach(node: ClusterNode): void {
    this.node = node;
  }

  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    const node = this.node;
    if (node === null) return topic.startsWith('__') ? null : NO_LEADER_STATE;
    const role = node.roles.get(topic, partition);
    if (role) return { leaderId: role.leaderId, leaderEpoch: role.leaderEpoch, isr: role.isr, minInsyncReplicas: role.minInsyncReplicas };
    const entry = node.view.partitions.get(`${topic}/${partition}`);
    // A partition of the cluster this broker holds no replica of: its leader is elsewhere.
    if (entry) return { leaderId: entry.state.leader, leaderEpoch: entry.state.leaderEpoch, isr: entry.state.isr };
    // Internal topics the cluster does not know stay local (the group coordinator's own).
    if (topic.startsWith('__')) return null;
    // A local log the cluster does not know (left from before): nobody leads it.
    return this.hasLocalTopic(topic) ? NO_LEADER_STATE : null;
  }

  leaseValid(): boolean {
    return this.node?.roles.leaseValid() ?? false;
  }
}

export interface ClusterReplicationOptions {
  /** Default DEFAULT_REPLICA_LAG_TIME_MAX_MS. */
  readonly replicaLagTimeMaxMs?: number;
  /** How followers connect to their leaders: TLS, the inter-broker login (peer-connection.ts). Default plaintext, no login. */
  readonly peerSecurity?: PeerSecurity;
  /** The data directory's record of the partitions assigned here (its identity already checked and adopted). */
  readonly record: ClusterReplicaRecord;
}

interface Follower {
  readonly topic: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly leaderAddress: string;
  /** `<leader id>@<host:port>`: the fetcher this partition joins. */
  readonly sessionKey: string;
  /** Null until the partition joined it (after its previous fetcher let go of the log). */
  fetcher: ReplicaFetcher | null;
}

export class ClusterReplication {
  private readonly followers = new Map<string, Follower>();
  /** One fetcher (one connection) per leader broker: session key -> fetcher. */
  private readonly fetchers = new Map<string, ReplicaFetcher>();
  private readonly fetchersStopping = new Set<ReplicaFetcher>();
  /** Stops in progress, per partition: a new fetcher starts only after the old one ended. */
  private readonly stopping = new Map<string, Promise<void>>();
  /** When this broker took up each leadership it holds (ms, monotonic), keyed with the epoch. */
  private readonly leaderSince = new Map<string, { epoch: number; sinceMs: number }>();
  private readonly isrInFlight = new Set<string>();
  private readonly creatingTopics = new Map<string, Promise<void>>();
  /** Local deletions under way of topics that left etcd. */
  private readonly deletingTopics = new Map<string, Promise<void>>();
  /** Local deletions under way of single partitions reassigned away, by key(). */
  private readonly deletingPartitions = new Map<string, Promise<void>>();
  /** Local config changes under way, chained per topic. */
  private readonly configuringTopics = new Map<string, Promise<void>>();
  /** The partitions assigned here in this cluster: the only local replicas ever deleted. */
  private readonly record: ClusterReplicaRecord;
  private readonly unsubscribes: Array<() => void> = [];
  private readonly isrTimer: NodeJS.Timeout;
  private readonly lagTimeMaxMs: number;
  private readonly peerSecurity: PeerSecurity;
  /** The reassignment throttle of this broker's catch-up fetches (src/cluster/README.md "Reassignment throttle"). */
  private readonly throttle: ReplicationThrottle;
  private closed = false;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly replicas: ReplicaManager,
    private readonly node: ClusterNode,
    options: ClusterReplicationOptions,
  ) {
    this.record = options.record;
    this.lagTimeMaxMs = options.replicaLagTimeMaxMs ?? DEFAULT_REPLICA_LAG_TIME_MAX_MS;
    this.peerSecurity = options.peerSecurity ?? plaintextPeerSecurity();
    // Share-group state and dead letters go between brokers too: the same TLS and login.
    ctx.peers.useSecurity(this.peerSecurity);
    this.throttle = new ReplicationThrottle(node.nodeId, node.view, node.roles, (message) => ctx.logger.info(message));
    this.unsubscribes.push(node.roles.onChange((changes) => this.applyChanges(changes)));
    this.unsubscribes.push(node.roles.onLease((event) => this.leaseEvent(event)));
    // After the roles' listener (registered at the node's start): a deleted topic's fetchers are stopping.
    this.unsubscribes.push(node.view.onChange((change) => this.topicsChanged(change.topics)));
    // Decided on the record as the last run left it, before it takes up the current assignment.
    this.deleteReplicasMovedAway();
    this.topicsChanged(new Set(node.view.topics.keys()));
    for (const topic of this.record.topics()) this.recordTopic(topic);
    this.applyChanges([...node.roles.all()].map((current) => ({ topic: current.topic, partition: current.partition, current })));
    this.isrTimer = setInterval(() => this.checkIsr(), Math.max(50, Math.floor(this.lagTimeMaxMs / 4)));
    this.isrTimer.unref();
  }

  /** The ClusterAdmin the core uses for CreateTopics and auto-creation in cluster mode. */
  admin(): ClusterAdmin {
    return {
      hasTopic: (name) => this.node.view.topics.has(name),
      createTopic: async (name, partitions, options = {}) => {
        const config = options.config ?? {};
        // Storage's configs are checked here, before the spec goes to etcd.
        parseTopicConfig(storageConfigs(config));
        await this.node.createTopic(name, {
          partitions,
          ...(options.replicationFactor !== undefined ? { replicationFactor: options.replicationFactor } : {}),
          configs: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])),
        });
        // The roles of a placed topic are known now (the view applied the assignment); the
        // local logs of this broker's replicas are being created.
        await this.creatingTopics.get(name);
      },
      deleteTopic: async (name) => {
        await this.node.deleteTopic(name);
        await this.topicGone(name);
      },
      createPartitions: async (name, count, validateOnly) => {
        await this.node.createPartitions(name, count, validateOnly);
        if (!validateOnly) await this.creatingTopics.get(name);
      },
      alterTopicConfig: async (name, config) => {
        const strings = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
        // Storage's checks first, before the spec goes to etcd.
        parseTopicConfig(storageConfigs(strings));
        await this.node.alterTopicConfig(name, strings);
        // Applied here now (the watch brings the same spec to the others, and to us a moment later).
        await this.applyConfigs(name, { ...(this.node.view.topics.get(name)?.configs ?? {}), ...strings });
      },
    };
  }

  /** Topic specs changed or vanished: delete the local log, or apply the spec's configs to it. */
  private topicsChanged(topics: ReadonlySet<string>): void {
    if (this.closed) return;
    for (const topic of topics) {
      const spec = this.node.view.topics.get(topic);
      // Gone from etcd: deleted here only when it was assigned here (decided before the record forgets it).
      if (!spec && this.record.partitionsOf(topic).size > 0) this.deleteHeldTopic(topic, () => !this.node.view.topics.has(topic));
      this.recordTopic(topic);
      if (spec) this.applyConfigs(topic, spec.configs);
    }
  }

  /**
   * The record's partitions of `topic`: those the assignment gives this broker, and those no
   * longer assigned whose local records are still here (kept until their deletion ends, so a
   * crash before it leaves them to the next attach).
   */
  private recordTopic(topic: string): void {
    if (topic.startsWith('__')) return;
    const me = this.node.nodeId;
    const held = new Set<number>();
    const replicas = this.node.view.topics.has(topic) ? this.node.view.assignments.get(topic)?.replicas : undefined;
    replicas?.forEach((assigned, partition) => {
      if (assigned.includes(me)) held.add(partition);
    });
    for (const partition of this.record.partitionsOf(topic)) {
      if (!held.has(partition) && this.hasLocalRecords(topic, partition)) held.add(partition);
    }
    this.record.setTopic(topic, held);
  }

  private hasLocalRecords(topic: string, partition: number): boolean {
    if (!this.hasLocalPartition(topic, partition)) return false;
    try {
      return this.ctx.logs.getPartition(topic, partition).logEndOffset > 0;
    } catch (error) {
      // A partition storage is closing (its topic being deleted): say "records" (keep the record's
      // entry, delete nothing more); the refresh after that deletion decides again.
      if (isSpoolError(error, Errors.UNKNOWN_TOPIC) || isSpoolError(error, Errors.UNKNOWN_PARTITION)) return true;
      throw error;
    }
  }

  /** Local partitions of `topic` with records that the record does not list (data not of this cluster). */
  private unlistedWithRecords(topic: string): number[] {
    const info = this.ctx.logs.getTopic(topic);
    const unlisted: number[] = [];
    for (let partition = 0; partition < (info?.partitions ?? 0); partition++) {
      if (!this.record.has(topic, partition) && this.hasLocalRecords(topic, partition)) unlisted.push(partition);
    }
    return unlisted;
  }

  /**
   * A topic of which this broker holds no replica any more (gone from etcd, or reassigned
   * away whole): the local log goes when every partition with records is one the record
   * lists; otherwise only the listed ones reassigned away go, and the rest is kept.
   */
  private deleteHeldTopic(topic: string, stillWanted: () => boolean): void {
    const unlisted = this.unlistedWithRecords(topic);
    if (unlisted.length === 0) {
      this.deleteLocalTopic(topic, () => stillWanted() && this.unlistedWithRecords(topic).length === 0);
      return;
    }
    this.ctx.logger.warn(`replication: keeping the local log of ${quoted(topic)}: partitions ${unlisted.join(',')} hold records this broker was never assigned in this cluster (not in meta/cluster-replicas); delete it by hand if unwanted`, { topic });
    for (const partition of this.record.partitionsOf(topic)) {
      if (this.movedAway(topic, partition) && this.hasLocalRecords(topic, partition)) this.deleteLocalPartition(topic, partition);
    }
  }

  /** Deletes the local log once the topic's fetchers ended, if `stillWanted` holds then. */
  private deleteLocalTopic(topic: string, stillWanted: () => boolean): void {
    if (this.deletingTopics.has(topic)) return;
    const deletion = (async () => {
      await this.creatingTopics.get(topic);
      // The roles' removal stopped this topic's fetchers: wait until they have ended.
      await Promise.all([...this.stopping].filter(([id]) => id.startsWith(`${topic}\u0000`)).map(([, stopped]) => stopped));
      for (const id of [...this.leaderSince.keys()]) if (id.startsWith(`${topic}\u0000`)) this.leaderSince.delete(id);
      if (this.closed || !stillWanted() || !this.ctx.logs.getTopic(topic)) return;
      await this.ctx.logs.deleteTopic(topic);
      this.ctx.waiters.notifyTopic(topic);
      this.ctx.logger.info(`replication: deleted the local log of ${quoted(topic)} (no replica of it left on this broker)`, { topic });
    })().catch((error: unknown) => {
      if (!isSpoolError(error, Errors.UNKNOWN_TOPIC)) this.ctx.logger.error(`replication: deleting the local log of ${quoted(topic)} failed`, error);
    }).finally(() => {
      this.deletingTopics.delete(topic);
      if (!this.closed) this.recordTopic(topic);
    });
    this.deletingTopics.set(topic, deletion);
  }

  /** Applies the spec's storage configs to the local log when any differs (a broker that was down catches up here). */
  private applyConfigs(topic: string, configs: Readonly<Record<string, string | number>>): Promise<void> {
    const previous = this.configuringTopics.get(topic) ?? Promise.resolve();
    const next = previous.then(async () => {
      const info = this.ctx.logs.getTopic(topic);
      if (this.closed || !info || info.internal) return;
      const wanted = storageConfigs(configs);
      const current = topicConfigToRecord(info.config);
      if (Object.entries(wanted).every(([name, value]) => String(current[name]) === String(value))) return;
      await this.ctx.logs.alterTopicConfig(topic, parseTopicConfig(wanted));
      this.ctx.logger.info(`replication: applied the cluster's configs of ${quoted(topic)}`, { topic });
    }).catch((error: unknown) => {
      this.ctx.logger.error(`replication: applying the configs of ${quoted(topic)} failed`, error);
    });
    this.configuringTopics.set(topic, next);
    void next.then(() => {
      if (this.configuringTopics.get(topic) === next) this.configuringTopics.delete(topic);
    });
    return next;
  }

  /** Resolves once the view no longer holds the topic and its local deletion (if any) ended. */
  private async topicGone(topic: string): Promise<void> {
    if (this.node.view.topics.has(topic)) {
      await new Promise<void>((resolve) => {
        const unsubscribe = this.node.view.onChange(() => {
          if (this.node.view.topics.has(topic)) return;
          unsubscribe();
          clearTimeout(timer);
          resolve();
        });
        // The watch normally brings our own delete within milliseconds; do not hang the request on a broken one.
        const timer = setTimeout(() => {
          unsubscribe();
          resolve();
        }, 10_000);
      });
    }
    await this.deletingTopics.get(topic);
  }

  private applyChanges(changes: readonly RoleChange[]): void {
    if (this.closed) return;
    const lostTopics = new Set<string>();
    for (const change of changes) {
      if (change.previous && !change.current) lostTopics.add(change.topic);
      try {
        this.apply(change.topic, change.partition, change.current);
      } catch (error) {
        this.ctx.logger.error(`replication: applying the role of ${quoted(change.topic)} partition ${change.partition} failed`, error);
      }
    }
    // A reassignment took this broker's last replica of a topic that lives on: its local log
    // goes; a replica moved off while others of the topic stay here: that partition's records go.
    for (const topic of lostTopics) {
      if (!this.node.view.topics.has(topic)) continue;
      if (![...this.node.roles.all()].some((role) => role.topic === topic)) {
        this.deleteHeldTopic(topic, () => ![...this.node.roles.all()].some((role) => role.topic === topic));
        continue;
      }
      for (const change of changes) {
        if (change.topic === topic && change.previous && !change.current) this.deleteLocalPartition(topic, change.partition);
      }
    }
  }

  /**
   * True when the cluster names other brokers, not this one, as the replicas of the
   * partition (a complete topic whose assignment leaves this broker out) and this broker
   * has no role for it: its local records are nobody's to serve.
   */
  private movedAway(topic: string, partition: number): boolean {
    if (this.node.roles.get(topic, partition) || !this.node.view.topics.has(topic)) return false;
    const replicas = this.node.view.assignments.get(topic)?.replicas[partition];
    return replicas !== undefined && !replicas.includes(this.node.nodeId);
  }

  /**
   * Deletes the records of one local partition reassigned away, once its fetcher ended, when
   * the record lists it as assigned here before. The check that it is still not ours runs
   * inside storage's serialized operation on the topic, with no await before the files go: a
   * role that came back meanwhile (a second reassignment) keeps the data. Internal topics
   * (`__*`) are left to their coordinators.
   */
  private deleteLocalPartition(topic: string, partition: number): void {
    const id = key(topic, partition);
    if (topic.startsWith('__') || this.deletingPartitions.has(id)) return;
    const ours = (): boolean => !this.closed && this.record.has(topic, partition) && this.movedAway(topic, partition);
    const deletion = (async () => {
      await this.creatingTopics.get(topic);
      await this.stopping.get(id);
      if (!this.hasLocalPartition(topic, partition) || !ours()) return;
      const deleted = await this.ctx.logs.deletePartition(topic, partition, () => ours() && !this.followers.has(id));
      if (!deleted) return;
      this.leaderSince.delete(id);
      this.ctx.logger.info(`replication: deleted the local replica of ${quoted(topic)} partition ${partition} (reassigned to other brokers)`, { topic, partition });
    })().catch((error: unknown) => {
      if (!isSpoolError(error, Errors.UNKNOWN_TOPIC) && !isSpoolError(error, Errors.SHUTTING_DOWN)) {
        this.ctx.logger.error(`replication: deleting the local replica of ${quoted(topic)} partition ${partition} failed`, error);
      }
    }).finally(() => {
      this.deletingPartitions.delete(id);
      if (!this.closed) this.recordTopic(topic);
    });
    this.deletingPartitions.set(id, deletion);
  }

  /**
   * At attach: local replicas the record lists as assigned here that the cluster moved to
   * other brokers while this one was down (or whose deletion a crash interrupted), and
   * topics deleted in etcd meanwhile. A topic of which no partition is assigned here (or
   * that etcd no longer has) goes whole (deleteHeldTopic's rule); otherwise each listed
   * partition not assigned here that still holds records. Local topics the record does not
   * know were never part of this cluster here: kept, with one warning.
   */
  private deleteReplicasMovedAway(): void {
    const me = this.node.nodeId;
    const unknown: string[] = [];
    const unknownAssigned: string[] = [];
    for (const info of this.ctx.logs.listTopics()) {
      if (info.internal || info.name.startsWith('__')) continue;
      const topic = info.name;
      const assignment = this.node.view.topics.has(topic) ? this.node.view.assignments.get(topic) : undefined;
      const listed = this.record.partitionsOf(topic);
      if (listed.size === 0) {
        if (assignment?.replicas.some((replicas) => replicas.includes(me)) === true) unknownAssigned.push(topic);
        else unknown.push(topic);
        continue;
      }
      if (!this.node.view.topics.has(topic)) {
        this.deleteHeldTopic(topic, () => !this.node.view.topics.has(topic));
        continue;
      }
      // A topic still being created (spec without assignment): nothing to decide yet.
      if (!assignment) continue;
      if (!assignment.replicas.some((replicas) => replicas.includes(me))) {
        this.deleteHeldTopic(topic, () => this.node.view.assignments.get(topic)?.replicas.every((replicas) => !replicas.includes(me)) === true && ![...this.node.roles.all()].some((role) => role.topic === topic));
        continue;
      }
      for (const partition of listed) {
        if (this.movedAway(topic, partition) && this.hasLocalRecords(topic, partition)) this.deleteLocalPartition(topic, partition);
      }
    }
    if (unknown.length > 0) {
      this.ctx.logger.warn(`replication: ${unknown.length} local topic(s) were never assigned to this broker in this cluster (not in meta/cluster-replicas): kept and never deleted here; describe them as no-leader logs, delete them by hand if unwanted: ${listNames(unknown)}`);
    }
    if (unknownAssigned.length > 0) {
      this.ctx.logger.warn(`replication: ${unknownAssigned.length} local topic(s) from before this broker joined the cluster have the name of a topic the cluster assigns here: their assigned partitions now follow the cluster's leaders (records that differ from the leader's are truncated): ${listNames(unknownAssigned)}`);
    }
  }

  private apply(topic: string, partition: number, role: PartitionRole | undefined): void {
    const id = key(topic, partition);
    if (role && !this.hasLocalPartition(topic, partition)) {
      // The role is applied again once the local log exists.
      this.createLocalTopic(topic);
      this.replicas.stateChanged(topic, partition);
      this.stopFollowing(id);
      return;
    }
    this.replicas.stateChanged(topic, partition);
    if (!role || role.role === 'leader') {
      this.stopFollowing(id);
      if (role) {
        const since = this.leaderSince.get(id);
        if (since?.epoch !== role.leaderEpoch) {
          this.leaderSince.set(id, { epoch: role.leaderEpoch, sinceMs: performance.now() });
          this.ctx.logger.info(`replication: leading ${quoted(topic)} partition ${partition} at epoch ${role.leaderEpoch}`, { topic, partition, leaderEpoch: role.leaderEpoch });
        }
        // Take up the leadership now: the epoch is recorded at the log end (OffsetForLeaderEpoch
        // answers it to a returning old leader) and an ISR of one moves the HW.
        this.replicas.afterLeaderAppend(topic, partition);
      } else {
        this.leaderSince.delete(id);
      }
      return;
    }
    this.leaderSince.delete(id);
    const address = role.leader ? `${role.leader.host}:${role.leader.port}` : '';
    const current = this.followers.get(id);
    if (current && current.leaderEpoch === role.leaderEpoch && current.leaderAddress === address) return;
    const sessionKey = role.leader ? `${role.leader.nodeId}@${address}` : '';
    if (role.leader && current?.fetcher && current.sessionKey === sessionKey) {
      // The same leader at a new epoch: its fetcher takes the partition back to truncation
      // (its rounds run one at a time, so the old epoch's answer is never applied after).
      const follower: Follower = { ...current, leaderEpoch: role.leaderEpoch };
      this.followers.set(id, follower);
      current.fetcher.add({ topic, partition, log: this.replicas.replicaLog(topic, partition), leaderEpoch: role.leaderEpoch });
      this.ctx.logger.info(`replication: following broker ${role.leader.nodeId} for ${quoted(topic)} partition ${partition} at epoch ${role.leaderEpoch}`, { topic, partition, leaderEpoch: role.leaderEpoch });
      return;
    }
    this.stopFollowing(id);
    if (!role.leader) return;
    const leader = role.leader;
    const follower: Follower = { topic, partition, leaderEpoch: role.leaderEpoch, leaderAddress: address, sessionKey, fetcher: null };
    this.followers.set(id, follower);
    this.ctx.logger.info(`replication: following broker ${leader.nodeId} for ${quoted(topic)} partition ${partition} at epoch ${role.leaderEpoch}`, { topic, partition, leaderEpoch: role.leaderEpoch });
    const join = (): void => {
      if (this.followers.get(id) !== follower || this.closed) return;
      try {
        const log = this.replicas.replicaLog(topic, partition);
        const fetcher = this.fetcherFor(follower.sessionKey, leader);
        follower.fetcher = fetcher;
        fetcher.add({ topic, partition, log, leaderEpoch: follower.leaderEpoch });
      } catch (error) {
        this.ctx.logger.error(`replication: following ${quoted(topic)} partition ${partition} failed`, error);
      }
    };
    // The previous fetcher of this partition (another leader, or an older epoch) lets go of its log first.
    const previousStop = this.stopping.get(id);
    if (previousStop) void previousStop.then(join);
    else join();
  }

  /** The fetcher (one connection) for every partition this broker follows from one leader. */
  private fetcherFor(sessionKey: string, leader: { nodeId: number; host: string; port: number }): ReplicaFetcher {
    let fetcher = this.fetchers.get(sessionKey);
    if (fetcher) return fetcher;
    fetcher = new ReplicaFetcher({
      channel: new NativeLeaderChannel(leader.host, leader.port, this.node.nodeId, this.peerSecurity),
      leaderName: `broker ${leader.nodeId} (${sessionKey.slice(sessionKey.indexOf('@') + 1)})`,
      warn: (message, partition) => this.ctx.logger.warn(message, partition ?? { leaderId: leader.nodeId }),
      throttle: this.throttle,
    });
    this.fetchers.set(sessionKey, fetcher);
    this.ctx.logger.info(`replication: fetching from broker ${leader.nodeId} at ${sessionKey.slice(sessionKey.indexOf('@') + 1)} (one connection for every partition it leads here)`, { leaderId: leader.nodeId });
    fetcher.start();
    return fetcher;
  }

  private stopFollowing(id: string): void {
    const follower = this.followers.get(id);
    if (!follower) return;
    this.followers.delete(id);
    const fetcher = follower.fetcher;
    if (!fetcher) return;
    const previous = this.stopping.get(id) ?? Promise.resolve();
    const removed = fetcher.remove(follower.topic, follower.partition);
    // A leader nobody here follows any more: its fetcher and connection go.
    if (fetcher.size === 0 && this.fetchers.get(follower.sessionKey) === fetcher) {
      this.fetchers.delete(follower.sessionKey);
      this.fetchersStopping.add(fetcher);
      void fetcher.stop().catch(() => undefined).finally(() => this.fetchersStopping.delete(fetcher));
    }
    const stopped = Promise.all([previous, removed]).then(() => undefined, () => undefined);
    this.stopping.set(id, stopped);
    void stopped.then(() => {
      if (this.stopping.get(id) === stopped) this.stopping.delete(id);
    });
  }

  private hasLocalPartition(topic: string, partition: number): boolean {
    const info = this.ctx.logs.getTopic(topic);
    return info !== undefined && partition < info.partitions;
  }

  /** Creates (or grows) the local topic as its spec in etcd says, then applies its roles again. */
  private createLocalTopic(topic: string): void {
    if (this.creatingTopics.has(topic)) return;
    const spec = this.node.view.topics.get(topic);
    if (!spec) return;
    // The record lists the topic's partitions assigned here before their local logs exist.
    this.recordTopic(topic);
    const creation = (async () => {
      // A topic deleted and created again: the old log goes first.
      await this.deletingTopics.get(topic);
      await this.record.flushed();
      const info = this.ctx.logs.getTopic(topic);
      if (!info) {
        await this.ctx.logs.createTopic(topic, spec.partitions, parseTopicConfig(storageConfigs(spec.configs)));
      } else if (info.partitions < spec.partitions) {
        await this.ctx.logs.createPartitions(topic, spec.partitions);
      }
    })().then(
      () => undefined,
      (error: unknown) => {
        if (!isSpoolError(error, Errors.TOPIC_ALREADY_EXISTS)) this.ctx.logger.error(`replication: creating the local replicas of ${quoted(topic)} failed`, error);
      },
    ).finally(() => {
      this.creatingTopics.delete(topic);
      if (this.closed) return;
      for (const role of this.node.roles.all()) {
        if (role.topic === topic && this.hasLocalPartition(topic, role.partition)) this.applyChanges([{ topic, partition: role.partition, current: role }]);
      }
    });
    this.creatingTopics.set(topic, creation);
  }

  private leaseEvent(event: 'lost' | 'regained'): void {
    if (event === 'lost') {
      this.ctx.logger.warn('replication: the cluster lease is lost: leaderships stop acknowledging until it is regained');
      this.replicas.leaseLost();
      return;
    }
    // Acknowledging resumes only where the roles (re-read from etcd) still say we lead.
    for (const role of this.node.roles.all()) this.replicas.stateChanged(role.topic, role.partition);
  }

  /** The leader's ISR decisions (Kafka's maybeShrinkIsr / maybeExpandIsr). */
  private checkIsr(): void {
    if (this.closed || !this.node.roles.leaseValid()) return;
    const nowMs = performance.now();
    const me = this.node.nodeId;
    for (const role of this.node.roles.all()) {
      if (role.role !== 'leader') continue;
      const id = key(role.topic, role.partition);
      if (this.isrInFlight.has(id) || !this.hasLocalPartition(role.topic, role.partition)) continue;
      const since = this.leaderSince.get(id);
      const sinceMs = since?.epoch === role.leaderEpoch ? since.sinceMs : nowMs;
      const states = new Map(this.replicas.followerStates(role.topic, role.partition).map((state) => [state.replicaId, state]));
      const highWatermark = this.replicas.replicaLog(role.topic, role.partition).highWatermark;
      const next = role.replicas.filter((replicaId) => {
        if (replicaId === me) return true;
        const state = states.get(replicaId);
        const caughtUpMs = Math.max(state?.lastCaughtUpMs ?? -1, sinceMs);
        if (role.isr.includes(replicaId)) return nowMs - caughtUpMs <= this.lagTimeMaxMs;
        // Back in: at the high watermark and caught up recently.
        return state !== undefined && state.logEndOffset >= highWatermark && state.lastCaughtUpMs >= 0 && nowMs - state.lastCaughtUpMs <= this.lagTimeMaxMs;
      });
      if (next.length === role.isr.length && next.every((replicaId) => role.isr.includes(replicaId))) continue;
      this.isrInFlight.add(id);
      const topic = role.topic;
      const partition = role.partition;
      void this.node.roles.alterIsr(topic, partition, next, role.stateRevision).then((result) => {
        this.isrInFlight.delete(id);
        if (result.ok) {
          this.ctx.logger.info(`replication: ISR of ${quoted(topic)} partition ${partition} [${role.isr.join(',')}] -> [${next.join(',')}]`, { topic, partition });
        } else if (result.error.kind !== Errors.STATE_CHANGED) {
          this.ctx.logger.warn(`replication: ISR change of ${quoted(topic)} partition ${partition} failed: ${result.error.message}`, { topic, partition });
        }
      });
    }
  }

  /** Stops every fetcher and the ISR checks (before the broker closes its storage). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.isrTimer);
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.throttle.close();
    for (const id of [...this.followers.keys()]) this.stopFollowing(id);
    const fetchers = [...this.fetchers.values(), ...this.fetchersStopping];
    this.fetchers.clear();
    await Promise.all([...this.stopping.values(), ...fetchers.map((fetcher) => fetcher.stop().catch(() => undefined))]);
  }
}

/** At most 20 names in a log line. */
function listNames(names: readonly string[]): string {
  return names.slice(0, 20).map(quoted).join(', ') + (names.length > 20 ? `, and ${names.length - 20} more` : '');
}

function storageConfigs(configs: Readonly<Record<string, string | number>>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(configs).filter(([name]) => !CLUSTER_ONLY_CONFIGS.has(name)));
}

/** Connects a started broker to its ClusterNode (see the file comment). */
export function attachCluster(ctx: BrokerContext, states: ClusterPartitionStates, node: ClusterNode, options: ClusterReplicationOptions): ClusterReplication {
  const replicas = ctx.replicas;
  if (!replicas) throw new SpoolError(Errors.INVALID_CONFIG, 'attachCluster: the broker was started without replication');
  states.hasLocalTopic = (topic) => ctx.logs.getTopic(topic) !== undefined;
  states.attach(node);
  const replication = new ClusterReplication(ctx, replicas, node, options);
  ctx.clusterAdmin = replication.admin();
  return replication;
}
