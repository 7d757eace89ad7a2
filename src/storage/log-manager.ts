// The log manager: every topic and partition under one data directory.
//
//   dataDir/<topic>-<partition>/       segments (see segment.ts)
//   dataDir/meta/topics/<topic>.json   topic metadata (metadata.ts), the commit point of
//                                      createTopic (written last) and deleteTopic
//                                      (removed first)
//   dataDir/meta/checkpoints/<topic>-<partition>.json   recovery checkpoints
//
// open() removes leftovers (*.tmp, *.deleted), loads every topic's metadata, recovers
// every partition (recovery.ts), removes partition directories no topic owns (a create
// or delete interrupted by a crash), and starts the background tasks. createTopic,
// createPartitions and deleteTopic work partition by partition in ~5 ms slices that yield to the event loop;
// operations on one name are serialized (withTopicName), so the check of the topic table
// and its change cannot interleave with another operation on that name, and a topic
// enters the table only when complete.

import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../util/clock.js';
import { Errors, SpoolError } from '../util/errors.js';
import { resolveTopicConfig } from './config.js';
import { storageError } from './errors.js';
import { type FileModes, type StorageFs, createNodeStorageFs, fileModes, readWholeFileSync } from './fs.js';
import { decodeTopicMeta, encodeCheckpoint, encodeTopicMeta, readCheckpointSync, writeFileAtomicSync } from './metadata.js';
import { DELETED_SUFFIX, DataDirLayout, SHORTENED_MARK, TEMP_SUFFIX, deletedName, parsePartitionDirName, validateTopicName } from './names.js';
import { PartitionLogImpl } from './partition-log.js';
import { MIN_OPEN_FILES, defaultMaxOpenFiles, sharedFilePool } from './file-pool.js';
import { DataDirLock } from './lock.js';
import { recoverPartition } from './recovery.js';
import { ProducerIdAllocator } from './producer-ids.js';
import { checkpointTask } from './tasks/checkpoint-task.js';
import { HIGH_WATERMARK_CHECKPOINT_FILE, type HighWatermarkEntry, highWatermarkKey, readHighWatermarksSync, writeHighWatermarksSync } from './high-watermark-checkpoint.js';
import { cleanerTask } from './tasks/cleaner-task.js';
import { diskSpaceRetryTask } from './tasks/disk-space-task.js';
import { flushTask } from './tasks/flush-task.js';
import { retentionTask } from './tasks/retention-task.js';
import { type BackgroundTask, Scheduler } from './tasks/scheduler.js';
import { segmentRollTask } from './tasks/segment-roll-task.js';
import { TimeSlices } from './time-slices.js';
import { SyncBatch } from './sync-batch.js';
import type {
  LogManager as LogManagerContract,
  LogManagerOptions,
  RecoveryReport,
  StorageTaskName,
  TopicConfig,
  TopicInfo,
} from './types.js';

export const MAX_PARTITIONS = 10_000;

/** How long open() scans partitions before it lets the event loop run once (recovery can take seconds). */
const OPEN_YIELD_INTERVAL_MS = 20;
/** Paths waiting for recovery's fdatasync at which the slice's syncs are flushed early. */
const RECOVERY_SYNC_BATCH = 512;

const DEFAULT_TASK_INTERVALS_MS: Record<StorageTaskName, number> = {
  retention: 5 * 60 * 1000,
  'log-cleaner': 15 * 1000,
  'segment-roll': 60 * 1000,
  'interval-flush': 1000,
  'recovery-checkpoint': 60 * 1000,
  'disk-space-retry': 5 * 1000,
  // Kafka's replica.high.watermark.checkpoint.interval.ms.
  'high-watermark-checkpoint': 5 * 1000,
};

interface TopicEntry {
  info: TopicInfo;
  logs: PartitionLogImpl[];
}

export class LogManager implements LogManagerContract {
  readonly dataDir: string;
  readonly recoveryReports: RecoveryReport[] = [];
  /** What start-up recovery did: segments scanned batch by batch, and trusted after the cheap check. */
  readonly recoveryStats = { segmentsScanned: 0, segmentsTrusted: 0 };
  private readonly layout: DataDirLayout;
  private readonly fs: StorageFs;
  private readonly clock: Clock;
  private readonly warn: (message: string) => void;
  private readonly topics = new Map<string, TopicEntry>();
  private readonly scheduler: Scheduler;
  private readonly tasks = new Map<StorageTaskName, BackgroundTask>();
  private closed = false;
  /** Set by abandon(): a simulated crash, after which no file is touched. */
  private abandoned = false;
  /** The last create or delete of each name (withTopicName), and every one not yet settled. */
  private readonly topicOperations = new Map<string, Promise<void>>();
  private readonly pendingOperations = new Set<Promise<void>>();
  private deleteSequence = 0;
  private readonly modes: FileModes;
  /** Held from open to close (lock.ts): one process per data directory. */
  private lock: DataDirLock | null = null;
  private producerIds: ProducerIdAllocator | null = null;
  /** Replicated only: the high watermarks read at open (highWatermarkKey -> offset). */
  private restoredHighWatermarks = new Map<string, number>();
  /** The last high-watermark checkpoint written (its bytes as text), to skip unchanged writes. */
  private lastHighWatermarks = '';

  private constructor(private readonly options: LogManagerOptions) {
    this.dataDir = options.dataDir;
    this.layout = new DataDirLayout(options.dataDir);
    this.modes = fileModes(options.fileMode);
    this.fs = options.fs ?? createNodeStorageFs(this.modes);
    this.clock = options.clock ?? systemClock;
    this.warn = options.warn ?? (() => undefined);
    this.scheduler = new Scheduler(this.warn);
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    const maxOpenFiles = options.maxOpenFiles ?? defaultMaxOpenFiles();
    if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < MIN_OPEN_FILES) {
      throw new RangeError(`maxOpenFiles must be an integer >= ${MIN_OPEN_FILES}, got ${maxOpenFiles}`);
    }
    // One pool per process (the fd limit is per process): the last open sizes it.
    sharedFilePool.maxOpenFiles = maxOpenFiles;
    const manager = new LogManager(options);
    try {
      manager.fs.mkdirSync(options.dataDir);
      // A directory made before modes existed (or by hand) may be world-readable: the data
      // directory's own mode is what keeps its contents private, so set it every time.
      chmodSync(options.dataDir, manager.modes.dirMode);
      manager.lock = DataDirLock.acquire(options.dataDir, manager.modes.fileMode);
      await manager.load();
    } catch (error) {
      manager.abandon();
      throw storageError(error, `opening ${options.dataDir}`);
    }
    manager.startTasks();
    return manager;
  }

  private *allLogs(): Iterable<PartitionLogImpl> {
    for (const entry of this.topics.values()) yield* entry.logs;
  }

  private async load(): Promise<void> {
    const { fs, layout } = this;
    fs.mkdirSync(this.dataDir);
    fs.mkdirSync(layout.topicsMetaDir);
    fs.mkdirSync(layout.checkpointsDir);
    this.producerIds = new ProducerIdAllocator(fs, layout.metaDir);
    for (const dir of [layout.topicsMetaDir, layout.checkpointsDir]) {
      for (const name of fs.readdirSync(dir)) {
        if (name.endsWith(TEMP_SUFFIX) || name.endsWith(DELETED_SUFFIX)) fs.rmSync(join(dir, name));
      }
    }
    if (this.options.replicated === true) this.loadHighWatermarks();
    const unreadable = new Set<string>();
    const unreadablePrefixes: string[] = [];
    for (const name of fs.readdirSync(layout.topicsMetaDir)) {
      if (!name.endsWith('.json')) continue;
      // A long topic's file name is shortened (names.ts fitFileName): the file names its
      // topic, and must be the file that topic's name leads to.
      const shortened = name.includes(SHORTENED_MARK);
      const topic = shortened ? null : name.slice(0, -'.json'.length);
      try {
        if (topic !== null) validateTopicName(topic);
        const info = decodeTopicMeta(readWholeFileSync(fs, join(layout.topicsMetaDir, name)));
        if ((topic !== null && info.name !== topic) || layout.topicMetaPath(info.name) !== join(layout.topicsMetaDir, name)) {
          throw new Error(`names topic ${info.name}`);
        }
        this.topics.set(info.name, { info, logs: [] });
      } catch (error) {
        // Keep its directories: a metadata file we cannot read is for a human to look at.
        // (A shortened name's topic is unknown here: only its prefix is kept safe.)
        if (topic !== null) unreadable.add(topic);
        else unreadablePrefixes.push(name.slice(0, name.indexOf(SHORTENED_MARK)));
        this.warn(`topic metadata ${name} is unreadable and was skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const name of fs.readdirSync(this.dataDir)) {
      const path = join(this.dataDir, name);
      if (name.endsWith(DELETED_SUFFIX)) {
        fs.rmSync(path);
        continue;
      }
      const parsed = parsePartitionDirName(name);
      if (!parsed || !fs.isDirectorySync(path) || unreadable.has(parsed.topic)) continue;
      if (unreadablePrefixes.some((prefix) => parsed.topic.startsWith(prefix))) continue;
      const entry = this.topics.get(parsed.topic);
      if (!entry || parsed.partition >= entry.info.partitions) {
        this.removeDir(path);
        this.warn(`removed ${path}: no topic owns it (a create or delete was interrupted)`);
      }
    }
    let lastYieldMs = this.clock.monotonicMs();
    // The fdatasyncs of scanned segments, run concurrently per slice of partitions, each
    // slice's checkpoints written after its syncs (sync-batch.ts).
    const syncs = new SyncBatch(fs);
    for (const entry of this.topics.values()) {
      for (let partition = 0; partition < entry.info.partitions; partition++) {
        entry.logs.push(this.openPartition(entry.info, partition, syncs));
        // Recovery after a crash can scan for seconds: between partitions, give the event
        // loop a turn now and then so the broker's admin port can answer /readyz "opening".
        // Nothing else can reach this manager before open() returns.
        if (syncs.size >= RECOVERY_SYNC_BATCH || this.clock.monotonicMs() - lastYieldMs >= OPEN_YIELD_INTERVAL_MS) {
          await syncs.flush();
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYieldMs = this.clock.monotonicMs();
        }
      }
    }
    await syncs.flush();
    const { segmentsScanned, segmentsTrusted } = this.recoveryStats;
    if (segmentsScanned > 0) this.warn(`recovery: scanned ${segmentsScanned} segment(s) after an unclean shutdown, trusted ${segmentsTrusted}`);
  }

  private get highWatermarkPath(): string {
    return join(this.dataDir, HIGH_WATERMARK_CHECKPOINT_FILE);
  }

  /** Reads the high-watermark checkpoint (replicated only); an unreadable one is ignored with a warning (every HW then starts at its log start). */
  private loadHighWatermarks(): void {
    const temp = this.highWatermarkPath + TEMP_SUFFIX;
    if (this.fs.existsSync(temp)) this.fs.rmSync(temp);
    try {
      this.restoredHighWatermarks = readHighWatermarksSync(this.fs, this.highWatermarkPath) ?? new Map();
    } catch (error) {
      this.warn(`${this.highWatermarkPath} is unreadable; high watermarks start at the log start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Writes every partition's high watermark when any changed (the
   * `high-watermark-checkpoint` task and close; replicated only). Atomic and durable.
   */
  writeHighWatermarks(): void {
    if (this.options.replicated !== true || this.abandoned) return;
    const entries: HighWatermarkEntry[] = [];
    for (const log of this.allLogs()) entries.push({ topic: log.topic, partition: log.partition, highWatermark: log.highWatermark });
    const key = entries.map((entry) => `${entry.topic} ${entry.partition} ${entry.highWatermark}`).join('\n');
    if (key === this.lastHighWatermarks) return;
    writeHighWatermarksSync(this.fs, this.highWatermarkPath, entries);
    this.lastHighWatermarks = key;
  }

  /** `syncs`: recovery at open (deferred, concurrent fdatasyncs); absent for a new partition. */
  private openPartition(info: TopicInfo, partition: number, syncs?: SyncBatch): PartitionLogImpl {
    const dir = this.layout.partitionDir(info.name, partition);
    const checkpointPath = this.layout.checkpointPath(info.name, partition);
    let checkpoint = null;
    try {
      checkpoint = readCheckpointSync(this.fs, checkpointPath);
    } catch (error) {
      // Without a checkpoint every segment is scanned: slower, never wrong.
      this.warn(`checkpoint ${checkpointPath} is unreadable, scanning all segments: ${error instanceof Error ? error.message : String(error)}`);
    }
    const recovered = recoverPartition({ fs: this.fs, dir, checkpoint, config: info.config, nowMs: this.clock.nowMs(), warn: this.warn, ...(syncs ? { deferSync: (path: string) => syncs.add(path) } : {}) });
    this.recoveryReports.push(...recovered.reports);
    this.recoveryStats.segmentsScanned += recovered.segmentsScanned;
    this.recoveryStats.segmentsTrusted += recovered.segmentsTrusted;
    const log = new PartitionLogImpl({
      fs: this.fs,
      clock: this.clock,
      fsync: this.options.fsync,
      topic: info.name,
      partition,
      dir,
      checkpointPath,
      config: info.config,
      segments: recovered.segments,
      logStartOffset: recovered.logStartOffset,
      warn: this.warn,
      ...(this.options.replicated === true
        ? { replicated: true, highWatermark: this.restoredHighWatermarks.get(highWatermarkKey(info.name, partition)) ?? recovered.logStartOffset }
        : {}),
    });
    // After a clean shutdown the checkpoint is not rewritten here (that would cost an
    // fsync per partition at every start): a stale cleanShutdown=true is harmless because
    // recovery trusts the last segment only when its verified end is exactly the
    // checkpoint's recoveryPoint, and any later append moves the end. After a scan it is
    // (the scanned segments and their rebuilt indexes were fsynced), so a second crash
    // does not scan them again. Without fsyncs: two per partition would make a start
    // after a crash with 10,000 partitions take a minute, and a checkpoint lost to a power
    // failure only means a scan; the checkpoint task writes it durably later.
    // Written once the scanned files are durable (the syncs' flush), not before.
    if (recovered.segmentsScanned > 0) {
      const checkpoint = { recoveryPoint: log.recoveryPoint(), logStartOffset: log.logStartOffset, cleanShutdown: false };
      const write = (): void => writeFileAtomicSync(this.fs, checkpointPath, encodeCheckpoint(checkpoint), false);
      if (syncs) syncs.afterSynced(write);
      else write();
    }
    return log;
  }

  private startTasks(): void {
    const intervals = { ...DEFAULT_TASK_INTERVALS_MS, ...this.options.taskIntervalsMs };
    const logs = (): Iterable<PartitionLogImpl> => this.allLogs();
    const fsync = this.options.fsync;
    const tasks: BackgroundTask[] = [
      retentionTask(logs, this.clock, intervals.retention, this.warn),
      cleanerTask(logs, this.fs, this.clock, intervals['log-cleaner'], this.warn),
      segmentRollTask(logs, this.clock, intervals['segment-roll']),
      checkpointTask(logs, intervals['recovery-checkpoint'], this.warn),
      diskSpaceRetryTask(logs, intervals['disk-space-retry']),
    ];
    if (fsync.kind === 'interval') tasks.push(flushTask(logs, fsync.intervalMs));
    if (this.options.replicated === true) {
      tasks.push({
        name: 'high-watermark-checkpoint',
        intervalMs: intervals['high-watermark-checkpoint'],
        run: () => {
          try {
            this.writeHighWatermarks();
          } catch (error) {
            this.warn(`high-watermark checkpoint failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        },
      });
    }
    for (const task of tasks) {
      this.tasks.set(task.name as StorageTaskName, task);
      if (this.options.backgroundTasks !== false) this.scheduler.schedule(task);
    }
  }

  /** Runs one background task now and waits for it (tests; an operator command). */
  async runTask(name: StorageTaskName): Promise<void> {
    const task = this.tasks.get(name);
    if (task) await this.scheduler.runNow(task);
  }

  private checkOpen(): void {
    if (this.closed) throw new SpoolError(Errors.SHUTTING_DOWN, 'the log manager is closed');
  }

  /**
   * Creates the partitions one by one, yielding to the event loop every ~5 ms
   * (time-slices.ts: 10,000 partitions took 8 s of blocked event loop in one piece), and
   * publishes the topic only when all exist and its metadata (the commit point) is
   * written: until then no caller sees it. Operations on one name run one after another
   * (withTopicName). A failure, or close() in the middle, removes what was made; a crash
   * in the middle leaves partition directories without metadata, which the next open()
   * removes.
   */
  async createTopic(name: string, partitions: number, config?: Partial<TopicConfig>, internal = false): Promise<TopicInfo> {
    this.checkOpen();
    validateTopicName(name);
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new SpoolError(Errors.INVALID_PARTITIONS, `a topic needs 1 to ${MAX_PARTITIONS} partitions, got ${partitions}`);
    }
    const info: TopicInfo = { name, partitions, config: resolveTopicConfig(this.options.defaults, config), internal };
    return this.withTopicName(name, () => this.makeTopic(info));
  }

  private async makeTopic(info: TopicInfo): Promise<TopicInfo> {
    this.checkOpen();
    if (this.topics.has(info.name)) throw new SpoolError(Errors.TOPIC_ALREADY_EXISTS, `topic ${info.name} already exists`);
    const logs = await this.openNewPartitions(info, 0, `creating topic ${info.name}`);
    this.topics.set(info.name, { info, logs });
    return info;
  }

  /**
   * Grows a topic to `count` partitions (Kafka's CreatePartitions: partitions are only ever
   * added). The new partitions are opened first, in slices that yield, and are not visible
   * until the metadata file, rewritten atomically with the new count, is written: the
   * commit point (a crash before it leaves orphan directories that the next open removes).
   */
  async createPartitions(name: string, count: number): Promise<TopicInfo> {
    this.checkOpen();
    return this.withTopicName(name, async () => {
      this.checkOpen();
      const entry = this.topics.get(name);
      if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
      if (entry.info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic ${name} is internal`);
      const current = entry.info.partitions;
      if (!Number.isSafeInteger(count) || count <= current || count > MAX_PARTITIONS) {
        throw new SpoolError(Errors.INVALID_PARTITIONS, `topic ${name} has ${current} partitions; the new count must be greater and at most ${MAX_PARTITIONS}, got ${count}`);
      }
      const info: TopicInfo = { ...entry.info, partitions: count };
      const added = await this.openNewPartitions(info, current, `adding partitions to topic ${name}`);
      // Operations on this name are serialized (withTopicName): no delete ran during the
      // await above, so `entry` is still the table's.
      entry.logs.push(...added);
      entry.info = info;
      return info;
    });
  }

  /**
   * Sets some of a topic's configs (the others keep their values): the metadata file is
   * rewritten atomically with the whole new config (the commit point), then every
   * partition log takes it. Each log reads its config where it uses it (append limits,
   * the next roll, the next retention or cleaner run), so the change applies from then
   * on; nothing already written is rewritten. Throws UNKNOWN_TOPIC, INVALID_TOPIC
   * (internal), INVALID_CONFIG.
   */
  async alterTopicConfig(name: string, changes: Partial<TopicConfig>): Promise<TopicInfo> {
    this.checkOpen();
    return this.withTopicName(name, async () => {
      this.checkOpen();
      const entry = this.topics.get(name);
      if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
      if (entry.info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic ${name} is internal`);
      const info: TopicInfo = { ...entry.info, config: resolveTopicConfig(entry.info.config, changes) };
      try {
        writeFileAtomicSync(this.fs, this.layout.topicMetaPath(name), encodeTopicMeta(info));
      } catch (error) {
        throw storageError(error, `altering the config of topic ${name}`);
      }
      entry.info = info;
      for (const log of entry.logs) log.config = info.config;
      return info;
    });
  }

  /**
   * Deletes the local replica of one partition (a cluster broker that no longer replicates
   * it): its segments, producer snapshot and leader epochs go and it starts again empty at
   * offset 0, as a partition this broker never held. The partition stays in the topic: a
   * topic's partitions are 0..partitions-1 on disk, and a cluster broker's local topic has
   * every partition, empty where it is no replica. `stillWanted` is asked inside the
   * topic's serialized operations, with no await between it and the deletion, so the
   * caller's "not mine any more" check still holds when the files go. Crash-safe as
   * truncateFullyAndStartAt: the checkpoint with the new start is written first, so a crash
   * in the middle leaves the old log (or a prefix of it) or the empty one, never a log that
   * claims records it lost. Returns true when records were deleted; false for an empty
   * log, an offline one (left for a human), or when `stillWanted` said no.
   */
  async deletePartition(name: string, partition: number, stillWanted: () => boolean = () => true): Promise<boolean> {
    this.checkOpen();
    return this.withTopicName(name, async () => {
      this.checkOpen();
      const entry = this.topics.get(name);
      if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
      const log = Number.isInteger(partition) ? entry.logs[partition] : undefined;
      if (!log) throw new SpoolError(Errors.UNKNOWN_PARTITION, `topic ${name} has no partition ${partition}`);
      if (log.isOffline || log.logEndOffset === 0 || !stillWanted()) return false;
      log.setLeaderEpoch(-1);
      log.truncateFullyAndStartAt(0);
      return true;
    });
  }

  /**
   * Opens partitions `from` .. info.partitions-1 as new ones, then writes the topic's
   * metadata (the commit point), yielding to the event loop every ~5 ms. On failure, or
   * close() meanwhile (SHUTTING_DOWN), it removes the directories it made and throws.
   */
  private async openNewPartitions(info: TopicInfo, from: number, what: string): Promise<PartitionLogImpl[]> {
    const added: PartitionLogImpl[] = [];
    const slices = new TimeSlices();
    try {
      for (let partition = from; partition < info.partitions; partition++) {
        // A directory left by an interrupted delete or create is not ours to keep.
        this.removeDir(this.layout.partitionDir(info.name, partition));
        this.fs.rmSync(this.layout.checkpointPath(info.name, partition));
        added.push(this.openPartition(info, partition));
        if (await slices.yieldIfDue()) this.checkOpen();
      }
      writeFileAtomicSync(this.fs, this.layout.topicMetaPath(info.name), encodeTopicMeta(info));
    } catch (error) {
      for (const log of added) log.abandon();
      // After abandon() (a simulated crash) the files are left as a crash leaves them.
      if (!this.abandoned) await this.removePartitionDirs(info.name, from, from + added.length + 1, slices);
      throw storageError(error, what);
    }
    return added;
  }

  /** Best effort: without metadata naming them, leftover directories are orphans that the next open removes. */
  private async removePartitionDirs(name: string, from: number, to: number, slices: TimeSlices): Promise<void> {
    for (let partition = from; partition < to; partition++) {
      try {
        this.removeDir(this.layout.partitionDir(name, partition));
      } catch {
        // Safe: see above, the next open removes it.
      }
      await slices.yieldIfDue();
    }
  }

  /**
   * The commit point is the removal of the metadata (first, in one piece): the topic is
   * gone for every caller at once. The partitions are then closed and their directories
   * renamed away in slices that yield (10,000 partitions blocked the event loop 2.7 s in
   * one piece), and the renamed directories are removed in the background
   * (removeInBackground).
   */
  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    return this.withTopicName(name, () => this.deletePartitions(name));
  }

  private async deletePartitions(name: string): Promise<void> {
    this.checkOpen();
    const entry = this.topics.get(name);
    if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
    this.topics.delete(name);
    const renamed: string[] = [];
    const slices = new TimeSlices();
    let failure: unknown;
    try {
      // The commit point: without its metadata the topic is gone, at the next start too.
      this.fs.unlinkSync(this.layout.topicMetaPath(name));
      this.fs.fsyncDirSync(this.layout.topicsMetaDir);
    } catch (error) {
      failure = error;
    }
    // The partitions were removed from the table above: close each whatever happened.
    for (const log of entry.logs) {
      // After abandon() (a simulated crash) no file is touched: the next open() removes
      // the .deleted and ownerless directories.
      if (this.abandoned) {
        log.abandon();
        continue;
      }
      if (failure === undefined) {
        try {
          const target = deletedName(log.dir, process.pid, ++this.deleteSequence);
          this.fs.renameSync(log.dir, target);
          renamed.push(target);
          this.fs.rmSync(this.layout.checkpointPath(name, log.partition));
        } catch (error) {
          failure = error;
        }
      }
      try {
        await log.closeDeleted();
      } catch (error) {
        failure ??= error;
      }
      await slices.yieldIfDue();
    }
    if (failure !== undefined) throw storageError(failure, `deleting topic ${name}`);
    this.removeInBackground(renamed, slices);
  }

  /**
   * Removes the renamed directories of a deleted topic after deleteTopic has answered
   * (as Kafka deletes a topic's logs asynchronously): removing one costs ~1.5-3 ms on this
   * machine kind (three unlinks and an rmdir), 20 s for 10,000 partitions. It continues in
   * slices that yield; close() waits for it; after a crash the next open() removes the
   * `.deleted` names that are left.
   */
  private removeInBackground(dirs: string[], slices: TimeSlices): void {
    const removal = (async () => {
      for (const dir of dirs) {
        if (this.abandoned) return;
        try {
          this.fs.rmSync(dir);
        } catch (error) {
          this.warn(`removing ${dir} of a deleted topic failed, the next start retries: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        await slices.yieldIfDue();
      }
    })();
    this.pendingOperations.add(removal);
    void removal.then(() => this.pendingOperations.delete(removal));
  }

  /**
   * Runs `operation` after every earlier create or delete of the same name has settled,
   * so their checks and file work never interleave while one of them yields (a create of a
   * name whose delete is still renaming directories waits for it). close() waits for all.
   */
  private withTopicName<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.topicOperations.get(name) ?? Promise.resolve();
    const result = previous.then(operation);
    const settled = result.then(
      () => undefined,
      () => undefined, // Safe: the caller observes the error through `result`.
    );
    this.topicOperations.set(name, settled);
    this.pendingOperations.add(settled);
    void settled.then(() => {
      this.pendingOperations.delete(settled);
      if (this.topicOperations.get(name) === settled) this.topicOperations.delete(name);
    });
    return result;
  }

  /** Renames a directory to a `.deleted` name, then removes it (a crash in between leaves only a `.deleted` name). */
  private removeDir(path: string): void {
    if (!this.fs.existsSync(path)) return;
    const target = deletedName(path, process.pid, ++this.deleteSequence);
    this.fs.renameSync(path, target);
    this.fs.rmSync(target);
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()].map((entry) => entry.info).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getTopic(name: string): TopicInfo | undefined {
    return this.topics.get(name)?.info;
  }

  getPartition(topic: string, partition: number): PartitionLogImpl {
    const entry = this.topics.get(topic);
    if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`);
    const log = Number.isInteger(partition) ? entry.logs[partition] : undefined;
    if (!log) throw new SpoolError(Errors.UNKNOWN_PARTITION, `topic ${topic} has no partition ${partition}`);
    return log;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A create stops at its next slice and removes what it made; a delete finishes.
    await Promise.all([...this.pendingOperations]);
    await this.scheduler.stop();
    const errors: unknown[] = [];
    // One batch of fdatasyncs for every partition's active files and staged checkpoint,
    // then the renames, then one fsync of the checkpoints directory (sync-batch.ts).
    const batch = new SyncBatch(this.fs);
    await Promise.all(
      [...this.allLogs()].map((log) =>
        log.close(true, batch).catch((error: unknown) => {
          errors.push(error);
        }),
      ),
    );
    try {
      // A failed sync leaves the checkpoints not yet renamed as they were (their .tmp is
      // removed at the next start), so those partitions are scanned then: never wrong.
      await batch.flush();
      this.fs.fsyncDirSync(this.layout.checkpointsDir);
    } catch (error) {
      errors.push(error);
    }
    try {
      this.writeHighWatermarks();
    } catch (error) {
      errors.push(error);
    }
    // Released even after a failed close: this process no longer uses the files.
    this.lock?.release();
    if (errors.length > 0) throw storageError(errors[0], 'closing the log manager');
  }

  /** A producer id never handed out before in this data directory (InitProducerId). */
  allocateProducerId(): number {
    if (this.closed || !this.producerIds) throw new SpoolError(Errors.SHUTTING_DOWN, 'the log manager is closed');
    try {
      return this.producerIds.allocate();
    } catch (error) {
      throw storageError(error, 'allocating a producer id');
    }
  }

  /** For crash tests: stop everything without fsync, checkpoint or index finalization (as kill -9). */
  abandon(): void {
    this.closed = true;
    this.abandoned = true;
    void this.scheduler.stop();
    for (const log of this.allLogs()) log.abandon();
    // A dead process's lock is stale and taken over at the next start; in this process
    // (tests reopening the directory) it must go explicitly.
    this.lock?.release();
  }
}

