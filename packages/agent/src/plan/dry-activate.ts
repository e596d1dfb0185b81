import { MAX_PLAN_OTHER_LINES, MAX_PLAN_UNITS, type ActivationChanges } from '@flotilla/protocol';

/** What `dry-activate` says, without its exit code. */
export type DryActivateSays = Omit<ActivationChanges, 'exitCode'>;

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * The sentences of nixpkgs' switch-to-configuration (the Perl script and
 * switch-to-configuration-ng say the same): `would <verb> the following units: a, b`.
 */
const UNITS = /^would (stop|start|restart|reload) the following units(?: as well)?: (.*)$/;
const SKIPPED = /^would NOT (?:stop|restart) the following changed units: (.*)$/;
const RESTART_SYSTEMD = /^would restart systemd$/;
/** Progress markers that say nothing about the host. */
const MARKERS = new Set(['would activate the configuration...', 'would run activate script...']);

/**
 * Reads the lines `switch-to-configuration dry-activate` printed (stdout and stderr, in
 * order) into the units it would stop, start, restart and reload, the changed units it
 * would leave running, and whether systemd itself would restart; every other line (the
 * activation script's own dry run, warnings) is kept as it is in `other`.
 */
export function parseDryActivate(lines: readonly string[]): DryActivateSays {
  const sets = {
    stop: new Set<string>(),
    start: new Set<string>(),
    restart: new Set<string>(),
    reload: new Set<string>(),
    skip: new Set<string>(),
  };
  let restartSystemd = false;
  const other: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(ANSI, '').trimEnd();
    if (line.trim() === '' || MARKERS.has(line.trim())) continue;
    const units = UNITS.exec(line);
    const skipped = SKIPPED.exec(line);
    if (units?.[1] !== undefined && units[2] !== undefined) {
      for (const unit of unitList(units[2])) sets[units[1] as keyof typeof sets].add(unit);
    } else if (skipped?.[1] !== undefined) {
      for (const unit of unitList(skipped[1])) sets.skip.add(unit);
    } else if (RESTART_SYSTEMD.test(line)) {
      restartSystemd = true;
    } else if (other.length < MAX_PLAN_OTHER_LINES) {
      other.push(line.slice(0, 1000));
    }
  }
  const list = (set: Set<string>) => [...set].sort().slice(0, MAX_PLAN_UNITS);
  return {
    stop: list(sets.stop),
    start: list(sets.start),
    restart: list(sets.restart),
    reload: list(sets.reload),
    skip: list(sets.skip),
    restartSystemd,
    other,
  };
}

function unitList(text: string): string[] {
  return text
    .split(',')
    .map((unit) => unit.trim())
    .filter((unit) => unit !== '' && unit.length <= 256);
}
