# NixOS: the Flotilla agent as a system service, run as root (it activates systems).
# `packagesFor system` gives the flake's packages for a system (the default package).
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
      mode = lib.mkOption {
        type = lib.types.enum [
          "managed"
          "monitor"
        ];
        default = "managed";
        description = ''
          `managed`: the controller may deploy to this host (after approval, as its policy
          says). `monitor`: facts only; deployments and reboots are refused.
        '';
      };
    };

  config = lib.mkIf cfg.enable {
    assertions = common.assertions cfg cfg.mode;

    services.flotilla.agent.configFile = common.configFile pkgs cfg cfg.mode;

    systemd.services.flotilla-agent = {
      description = "Flotilla agent";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      # nix-store and nix for fetching and checking, nix-env where flock is missing;
      # util-linux's flock takes Nix's profile lock when the agent switches the profile
      # itself. systemctl and systemd-run come with every NixOS unit's default path.
      path = [
        config.nix.package
        pkgs.util-linux
      ];

      # A deployment switches the system this unit belongs to, and the agent runs that
      # switch: switching must neither restart nor stop it, and a restart of the unit must
      # not kill the activation it started (it runs in a transient unit of its own; the
      # agent's journal carries the deployment over its own restart). As cachix-agent and
      # comin do. A new agent version takes over at the next restart or reboot.
      restartIfChanged = false;
      unitConfig = {
        X-StopOnRemoval = false;
        # Never give up restarting: a host that lost its agent is lost to the fleet.
        StartLimitIntervalSec = 0;
      };

      serviceConfig = {
        ExecStart = lib.escapeShellArgs (common.command cfg);
        User = "root";
        Restart = "always";
        RestartSec = "10s";
        KillMode = "process";
      }
      // lib.optionalAttrs (lib.hasPrefix "/var/lib/" cfg.stateDir) {
        StateDirectory = lib.removePrefix "/var/lib/" cfg.stateDir;
        StateDirectoryMode = "0700";
      };
    };
  };
}
