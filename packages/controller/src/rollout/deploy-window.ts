import * as z from 'zod';

/**
 * Deploy windows: when a host (or a wave) may be deployed to, as local wall-clock times
 * in an IANA time zone. Local time is always read through `Intl` for the instant in
 * question, so daylight-saving changes are handled by construction: a window start that
 * falls into a skipped hour opens when the clock jumps past it, and a repeated hour is
 * inside the window both times.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, from 00:00 to 23:59');

const TimeZone = z
  .string()
  .min(1)
  .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Vienna or UTC');

/**
 * One allow-window. `end <= start` means the window crosses midnight (and `end == start`
 * lasts 24 hours); `days` then names the day the window starts on. `days` omitted means
 * every day.
 */
export const DeployWindow = z
  .object({
    days: z.array(Weekday).min(1, 'omit days for every day').optional(),
    start: Time,
    end: Time,
    timeZone: TimeZone,
  })
  .strict();
export type DeployWindow = z.infer<typeof DeployWindow>;

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
/** How far `nextWindowStart` looks ahead: a weekly window always opens within 8 days. */
const SEARCH_MS = 8 * DAY_MINUTES * MINUTE_MS;

/** True when `timeZone` is a zone `Intl` knows (it throws RangeError otherwise). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/**
 * True when `at` lies in at least one window. No windows means no restriction.
 * The start minute is inside a window, the end minute is not.
 */
export function isWithinWindows(windows: readonly DeployWindow[], at: Date): boolean {
  if (windows.length === 0) return true;
  return windows.some((window) => isWithinWindow(window, at));
}

/**
 * The earliest instant at or after `at` when deploying is allowed, at minute resolution:
 * `at` itself when it is already inside a window (or there are no windows), else the
 * minute a window opens. Null when no window opens within the next 8 days (a window that
 * exists only in a skipped daylight-saving hour, for instance).
 */
export function nextWindowStart(windows: readonly DeployWindow[], at: Date): Date | null {
  if (isWithinWindows(windows, at)) return at;
  const limit = at.getTime() + SEARCH_MS;
  let t = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  while (t <= limit) {
    t = nextPossibleChange(windows, t);
    if (t > limit) break;
    if (isWithinWindows(windows, new Date(t))) return new Date(t);
  }
  return null;
}

/** The windows in words, e.g. `Mon–Fri 02:00–04:00 Europe/Vienna`; `any time` when none. */
export function describeWindows(windows: readonly DeployWindow[]): string {
  if (windows.length === 0) return 'any time';
  return windows.map(describeWindow).join('; ');
}

/**
 * Why a deployment waits, e.g. `waits until Sun 03:00 Europe/Vienna`, in the time zone of
 * the window that opens then.
 */
export function describeWait(windows: readonly DeployWindow[], at: Date): string {
  const next = nextWindowStart(windows, at);
  if (next === null) return 'no deploy window opens in the next 8 days';
  if (next.getTime() === at.getTime()) return 'inside a deploy window';
  const window = windows.find((w) => isWithinWindow(w, next));
  const timeZone = window?.timeZone ?? 'UTC';
  const local = localTime(timeZone, next.getTime());
  const day = capitalize(WEEKDAYS[local.weekday] ?? 'mon');
  return `waits until ${day} ${formatMinutes(local.minuteOfDay)} ${timeZone}`;
}

function isWithinWindow(window: DeployWindow, at: Date): boolean {
  const { weekday, minuteOfDay } = localTime(window.timeZone, at.getTime());
  const start = parseMinutes(window.start);
  const end = parseMinutes(window.end);
  const onDay = (day: number) => window.days === undefined || window.days.includes(dayName(day));
  if (start < end) return onDay(weekday) && minuteOfDay >= start && minuteOfDay < end;
  // Crosses midnight: the evening part belongs to today, the morning part to yesterday.
  if (minuteOfDay >= start) return onDay(weekday);
  return minuteOfDay < end && onDay(weekday + 6);
}

/**
 * The next minute after `t` at which any window may open or close. Between such minutes
 * local time advances with real time and crosses no window boundary (start, end or local
 * midnight, where the weekday changes), so no window changes state in between — unless
 * the zone's UTC offset changes, which is found by comparing the local clock with where
 * it should be and then searching for the minute it jumped.
 */
function nextPossibleChange(windows: readonly DeployWindow[], t: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const window of windows) {
    const { timeZone } = window;
    const now = localTime(timeZone, t);
    const boundaries = [parseMinutes(window.start), parseMinutes(window.end), 0];
    const steps = Math.min(
      ...boundaries.map((b) => (b - now.minuteOfDay + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES),
    );
    const candidate = t + steps * MINUTE_MS;
    const shifted = (at: number) =>
      localTime(timeZone, at).minuteOfWeek !==
      (now.minuteOfWeek + (at - t) / MINUTE_MS) % WEEK_MINUTES;
    next = Math.min(
      next,
      shifted(candidate) ? firstShiftedMinute(t, candidate, shifted) : candidate,
    );
  }
  return next;
}

/** Binary search for the first minute in (from, to] where the local clock has jumped. */
function firstShiftedMinute(from: number, to: number, shifted: (at: number) => boolean): number {
  let low = from;
  let high = to;
  while (high - low > MINUTE_MS) {
    const middle = low + Math.floor((high - low) / MINUTE_MS / 2) * MINUTE_MS;
    if (shifted(middle)) high = middle;
    else low = middle;
  }
  return high;
}

interface LocalTime {
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  minuteOfDay: number;
  minuteOfWeek: number;
}

// Building a formatter is far slower than using one; one per zone is kept.
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(timeZone: string, at: number): LocalTime {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter.formatToParts(at)) {
    if (part.type === 'weekday') weekday = SHORT_WEEKDAYS.indexOf(part.value);
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (weekday < 0) throw new Error(`unexpected weekday from Intl for ${timeZone}`);
  const minuteOfDay = hour * 60 + minute;
  return { weekday, minuteOfDay, minuteOfWeek: weekday * DAY_MINUTES + minuteOfDay };
}

const SHORT_WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function dayName(day: number): Weekday {
  return WEEKDAYS[day % 7] ?? 'mon';
}

function parseMinutes(time: string): number {
  const [hours = 0, minutes = 0] = time.split(':').map(Number);
  return hours * 60 + minutes;
}

function formatMinutes(minutes: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeWindow(window: DeployWindow): string {
  const overnight = parseMinutes(window.end) <= parseMinutes(window.start);
  const times = `${window.start}–${window.end}${overnight ? ' (next day)' : ''}`;
  return `${describeDays(window.days)} ${times} ${window.timeZone}`;
}

/** `daily`, `Mon–Fri`, `Sat, Sun`, `Mon, Wed–Fri`. */
function describeDays(days: readonly Weekday[] | undefined): string {
  const indexes = [...new Set((days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)))].sort(
    (a, b) => a - b,
  );
  if (indexes.length === 7) return 'daily';
  const runs: number[][] = [];
  for (const index of indexes) {
    const run = runs.at(-1);
    if (run !== undefined && run.at(-1) === index - 1) run.push(index);
    else runs.push([index]);
  }
  const name = (index: number) => capitalize(dayName(index));
  return runs
    .map((run) => {
      const first = run[0] ?? 0;
      const last = run.at(-1) ?? first;
      if (run.length >= 3) return `${name(first)}–${name(last)}`;
      return run.map(name).join(', ');
    })
    .join(', ');
}
