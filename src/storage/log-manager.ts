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
// or delete interrupted by a crash), and starts the background tasks. Control-path
// methods do their file work synchronously, so there is no await between checking the
// topic table and changing it.

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
import { checkpointTask } from './tasks/checkpoint-task.js';
import { cleanerTask } from './tasks/cleaner-task.js';
import { diskSpaceRetryTask } from './tasks/disk-space-task.js';
import { flushTask } from './tasks/flush-task.js';
import { retentionTask } from './tasks/retention-task.js';
import { type BackgroundTask, Scheduler } from './tasks/scheduler.js';
import { segmentRollTask } from './tasks/segment-roll-task.js';
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

const DEFAULT_TASK_INTERVALS_MS: Record<StorageTaskName, number> = {
  retention: 5 * 60 * 1000,
  'log-cleaner': 15 * 1000,
  'segment-roll': 60 * 1000,
  'interval-flush': 1000,
  'recovery-checkpoint': 60 * 1000,
  'disk-space-retry': 5 * 1000,
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
  private deleteSequence = 0;
  private readonly modes: FileModes;
  /** Held from open to close (lock.ts): one process per data directory. */
  private lock: DataDirLock | null = null;

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
    for (const dir of [layout.topicsMetaDir, layout.checkpointsDir]) {
      for (const name of fs.readdirSync(dir)) {
        if (name.endsWith(TEMP_SUFFIX) || name.endsWith(DELETED_SUFFIX)) fs.rmSync(join(dir, name));
      }
    }
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
    for (const entry of this.topics.values()) {
      for (let partition = 0; partition < entry.info.partitions; partition++) {
        entry.logs.push(this.openPartition(entry.info, partition));
        // Recovery after a crash can scan for seconds: between partitions, give the event
        // loop a turn now and then so the broker's admin port can answer /readyz "opening".
        // Nothing else can reach this manager before open() returns.
        if (this.clock.monotonicMs() - lastYieldMs >= OPEN_YIELD_INTERVAL_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYieldMs = this.clock.monotonicMs();
        }
      }
    }
    const { segmentsScanned, segmentsTrusted } = this.recoveryStats;
    if (segmentsScanned > 0) this.warn(`recovery: scanned ${segmentsScanned} segment(s) after an unclean shutdown, trusted ${segmentsTrusted}`);
  }

  private openPartition(info: TopicInfo, partition: number): PartitionLogImpl {
    const dir = this.layout.partitionDir(info.name, partition);
    const checkpointPath = this.layout.checkpointPath(info.name, partition);
    let checkpoint = null;
    try {
      checkpoint = readCheckpointSync(this.fs, checkpointPath);
    } catch (error) {
      // Without a checkpoint every segment is scanned: slower, never wrong.
      this.warn(`checkpoint ${checkpointPath} is unreadable, scanning all segments: ${error instanceof Error ? error.message : String(error)}`);
    }
    const recovered = recoverPartition({ fs: this.fs, dir, checkpoint, config: info.config, nowMs: this.clock.nowMs(), warn: this.warn });
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
    });
    // After a clean shutdown the checkpoint is not rewritten here (that would cost an
    // fsync per partition at every start): a stale cleanShutdown=true is harmless because
    // recovery trusts the last segment only when its verified end is exactly the
    // checkpoint's recoveryPoint, and any later append moves the end. After a scan it is
    // (the scanned segments and their rebuilt indexes were fsynced), so a second crash
    // does not scan them again. Without fsyncs: two per partition would make a start
    // after a crash with 10,000 partitions take a minute, and a checkpoint lost to a power
    // failure only means a scan; the checkpoint task writes it durably later.
    if (recovered.segmentsScanned > 0) {
      const checkpoint = { recoveryPoint: log.recoveryPoint(), logStartOffset: log.logStartOffset, cleanShutdown: false };
      writeFileAtomicSync(this.fs, checkpointPath, encodeCheckpoint(checkpoint), false);
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

  async createTopic(name: string, partitions: number, config?: Partial<TopicConfig>, internal = false): Promise<TopicInfo> {
    this.checkOpen();
    validateTopicName(name);
    if (this.topics.has(name)) throw new SpoolError(Errors.TOPIC_ALREADY_EXISTS, `topic ${name} already exists`);
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new SpoolError(Errors.INVALID_PARTITIONS, `a topic needs 1 to ${MAX_PARTITIONS} partitions, got ${partitions}`);
    }
    const info: TopicInfo = { name, partitions, config: resolveTopicConfig(this.options.defaults, config), internal };
    const entry: TopicEntry = { info, logs: [] };
    try {
      for (let partition = 0; partition < partitions; partition++) {
        // A directory left by an interrupted delete of the same name is not ours to keep.
        this.removeDir(this.layout.partitionDir(name, partition));
        this.fs.rmSync(this.layout.checkpointPath(name, partition));
        entry.logs.push(this.openPartition(info, partition));
      }
      writeFileAtomicSync(this.fs, this.layout.topicMetaPath(name), encodeTopicMeta(info));
    } catch (error) {
      for (const log of entry.logs) log.abandon();
      for (let partition = 0; partition < partitions; partition++) {
        try {
          this.removeDir(this.layout.partitionDir(name, partition));
        } catch {
          // Without metadata the directory is an orphan that the next open removes.
        }
      }
      throw storageError(error, `creating topic ${name}`);
    }
    this.topics.set(name, entry);
    return info;
  }

  /**
   * Grows a topic to `count` partitions (Kafka's CreatePartitions: partitions are only ever
   * added). The new partitions are opened first; the metadata file, rewritten atomically
   * with the new count, is the commit point (a crash before it leaves orphan directories
   * that the next open removes).
   */
  async createPartitions(name: string, count: number): Promise<TopicInfo> {
    this.checkOpen();
    const entry = this.topics.get(name);
    if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
    if (entry.info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic ${name} is internal`);
    const current = entry.info.partitions;
    if (!Number.isSafeInteger(count) || count <= current || count > MAX_PARTITIONS) {
      throw new SpoolError(Errors.INVALID_PARTITIONS, `topic ${name} has ${current} partitions; the new count must be greater and at most ${MAX_PARTITIONS}, got ${count}`);
    }
    const info: TopicInfo = { ...entry.info, partitions: count };
    const added: PartitionLogImpl[] = [];
    try {
      for (let partition = current; partition < count; partition++) {
        this.removeDir(this.layout.partitionDir(name, partition));
        this.fs.rmSync(this.layout.checkpointPath(name, partition));
        added.push(this.openPartition(info, partition));
      }
      writeFileAtomicSync(this.fs, this.layout.topicMetaPath(name), encodeTopicMeta(info));
    } catch (error) {
      for (const log of added) log.abandon();
      throw storageError(error, `adding partitions to topic ${name}`);
    }
    entry.logs.push(...added);
    entry.info = info;
    return info;
  }

  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    const entry = this.topics.get(name);
    if (!entry) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${name} does not exist`);
    this.topics.delete(name);
    const renamed: string[] = [];
    try {
      // The commit point: without its metadata the topic is gone, at the next start too.
      this.fs.unlinkSync(this.layout.topicMetaPath(name));
      this.fs.fsyncDirSync(this.layout.topicsMetaDir);
      for (const log of entry.logs) {
        const target = deletedName(log.dir, process.pid, ++this.deleteSequence);
        this.fs.renameSync(log.dir, target);
        renamed.push(target);
        this.fs.rmSync(this.layout.checkpointPath(name, log.partition));
      }
    } catch (error) {
      throw storageError(error, `deleting topic ${name}`);
    } finally {
      // The partitions were removed from the table above: close them whatever happened.
      await Promise.all(entry.logs.map((log) => log.closeDeleted()));
    }
    for (const dir of renamed) this.fs.rmSync(dir);
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
    await this.scheduler.stop();
    const errors: unknown[] = [];
    await Promise.all(
      [...this.allLogs()].map((log) =>
        log.close().catch((error: unknown) => {
          errors.push(error);
        }),
      ),
    );
    // Released even after a failed close: this process no longer uses the files.
    this.lock?.release();
    if (errors.length > 0) throw storageError(errors[0], 'closing the log manager');
  }

  /** For crash tests: stop everything without fsync, checkpoint or index finalization (as kill -9). */
  abandon(): void {
    this.closed = true;
    void this.scheduler.stop();
    for (const log of this.allLogs()) log.abandon();
    // A dead process's lock is stale and taken over at the next start; in this process
    // (tests reopening the directory) it must go explicitly.
    this.lock?.release();
  }
}

