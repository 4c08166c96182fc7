/**
 * A setting chosen by an option, else berth's own variable, else the variable the docker-registry
 * image's tutorials set (SETTINGS_FLAVOR, DOCKER_REGISTRY_CONFIG). Empty variables count as unset.
 * A legacy variable that is set adds one line to `warnings`: what it selected and berth's own way,
 * or that something else won.
 */

/** The value chosen, and the variable that named it (undefined for the option). */
export interface Chosen {
  value: string;
  source?: string;
}

export interface AliasedSetting {
  option: string | undefined;
  own: string;
  legacy: string;
  /** The choice, for notices: "selects profile dev" (`byLegacy`: the legacy variable itself made it). */
  selects: (value: string, byLegacy: boolean) => string;
  /** berth's own way, for the notice: "berth's own variable is REGISTRY_PROFILE (or --profile NAME)". */
  ownWay: string;
  /** The option's spelling, when it won: "--profile". */
  optionName: string;
}

/** The variable's value, or undefined when it is unset or empty. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value !== '' ? value : undefined;
}

export function chooseSetting(setting: AliasedSetting, env: NodeJS.ProcessEnv, warnings: string[]): Chosen | undefined {
  const own = nonEmpty(env[setting.own]);
  const legacy = nonEmpty(env[setting.legacy]);
  const chosen: Chosen | undefined =
    setting.option !== undefined
      ? { value: setting.option }
      : own !== undefined
        ? { value: own, source: setting.own }
        : legacy !== undefined
          ? { value: legacy, source: setting.legacy }
          : undefined;
  if (legacy !== undefined && chosen !== undefined) {
    const assignment = `${setting.legacy}=${legacy}`;
    warnings.push(
      chosen.source === setting.legacy
        ? `${assignment} ${setting.selects(legacy, true)}; ${setting.ownWay}`
        : `${assignment} ignored: ${chosen.source ?? setting.optionName} ${setting.selects(chosen.value, false)}`,
    );
  }
  return chosen;
}
