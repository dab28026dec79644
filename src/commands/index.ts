/**
 * The CLI's commands, by id (oclif's explicit strategy: package.json points here). Command modules
 * import only oclif and their base at top level; clients and views load inside run(), so `wf --help`
 * stays fast.
 */

import { ActivityComplete } from './activity/complete.js';
import { ActivityFail } from './activity/fail.js';
import { ActivityHeartbeat } from './activity/heartbeat.js';
import { Cancel } from './cancel.js';
import { Cluster } from './cluster.js';
import { DbImport } from './db/import.js';
import { DbMigrate } from './db/migrate.js';
import { Describe } from './describe.js';
import { Dev } from './dev.js';
import { Execute } from './execute.js';
import { Export } from './export.js';
import { Init } from './init.js';
import { List } from './list.js';
import { Query } from './query.js';
import { Replay } from './replay.js';
import { Result } from './result.js';
import { Run } from './run.js';
import {
  ScheduleBackfill,
  ScheduleDelete,
  SchedulePause,
  ScheduleTrigger,
  ScheduleUnpause,
} from './schedule/act.js';
import { ScheduleCreate } from './schedule/create.js';
import { ScheduleDescribe } from './schedule/describe.js';
import { ScheduleList } from './schedule/list.js';
import { Serve } from './serve.js';
import { Show } from './show.js';
import { Signal } from './signal.js';
import { SignalWithStart } from './signal-with-start.js';
import { Start } from './start.js';
import { Terminate } from './terminate.js';
import { TimeShow } from './time/show.js';
import { TimeSkip } from './time/skip.js';
import { TimerFire } from './timer/fire.js';
import { Update } from './update.js';

export const COMMANDS = {
  init: Init,
  dev: Dev,
  serve: Serve,
  cluster: Cluster,
  'schedule:create': ScheduleCreate,
  'schedule:list': ScheduleList,
  'schedule:describe': ScheduleDescribe,
  'schedule:pause': SchedulePause,
  'schedule:unpause': ScheduleUnpause,
  'schedule:trigger': ScheduleTrigger,
  'schedule:backfill': ScheduleBackfill,
  'schedule:delete': ScheduleDelete,
  run: Run,
  replay: Replay,
  start: Start,
  execute: Execute,
  signal: Signal,
  'signal-with-start': SignalWithStart,
  query: Query,
  update: Update,
  cancel: Cancel,
  terminate: Terminate,
  'activity:complete': ActivityComplete,
  'activity:fail': ActivityFail,
  'activity:heartbeat': ActivityHeartbeat,
  list: List,
  describe: Describe,
  show: Show,
  export: Export,
  'db:migrate': DbMigrate,
  'db:import': DbImport,
  result: Result,
  time: TimeShow,
  'time:skip': TimeSkip,
  'timer:fire': TimerFire,
};
