# nix-darwin: the Flotilla agent as a launchd daemon in monitor mode. macOS hosts are shown
# (facts, what they run against what the branch declares) and never deployed to: the agent
# refuses deployment and reboot requests. `packagesFor system` gives the flake's packages.
{ packagesFor }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.flotilla.agent;
  common = import ./agent-common.nix { inherit lib; };
in
{
  options.services.flotilla.agent =
    common.options {
      inherit pkgs packagesFor;
      defaultHost = config.networking.hostName;
      defaultStateDir = "/var/lib/flotilla-agent";
    }
    // {
      logFile = lib.mkOption {
        type = lib.types.str;
        default = "/var/log/flotilla-agent.log";
        description = "Where launchd writes the agent's output (JSON lines).";
      };
    };

  config = lib.mkIf cfg.enable {
    assertions = common.assertions cfg "monitor";

    services.flotilla.agent.configFile = common.configFile pkgs cfg "monitor";

    launchd.daemons.flotilla-agent.serviceConfig = {
      Label = "org.flotilla.agent";
      ProgramArguments = common.command cfg;
      RunAtLoad = true;
      # Restarted whenever it exits, as Restart=always on NixOS.
      KeepAlive = true;
      ThrottleInterval = 10;
      StandardOutPath = cfg.logFile;
      StandardErrorPath = cfg.logFile;
      # launchd starts jobs with /usr/bin:/bin:/usr/sbin:/sbin only; the agent also asks
      # nix and darwin-version.
      EnvironmentVariables.PATH = lib.concatStringsSep ":" [
        "/run/current-system/sw/bin"
        "/nix/var/nix/profiles/default/bin"
        "/usr/bin"
        "/bin"
        "/usr/sbin"
        "/sbin"
      ];
    };
  };
}
