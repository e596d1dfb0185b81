# home-manager: the Flotilla agent of one user in monitor mode: a launchd agent on macOS,
# a systemd user service on Linux. For machines managed with standalone home-manager
# (`homeConfigurations."user@host"`): the controller shows them, never deploys to them.
# `packagesFor system` gives the flake's packages.
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
  logFile = "${cfg.stateDir}/agent.log";
  # Where nix and the system's tools are for a user's service: launchd starts jobs with
  # /usr/bin:/bin:/usr/sbin:/sbin only, systemd user services without the Nix profiles.
  searchPath = lib.concatStringsSep ":" [
    "${config.home.homeDirectory}/.nix-profile/bin"
    "/etc/profiles/per-user/${config.home.username}/bin"
    "/run/current-system/sw/bin"
    "/nix/var/nix/profiles/default/bin"
    "/usr/local/bin"
    "/usr/bin"
    "/bin"
    "/usr/sbin"
    "/sbin"
  ];
in
{
  options.services.flotilla.agent = common.options {
    inherit pkgs packagesFor;
    # home-manager knows no host name: say which machine this configuration is for.
    defaultHost = null;
    defaultStateDir = "${config.xdg.stateHome}/flotilla-agent";
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        assertions = common.assertions cfg "monitor";
        services.flotilla.agent.configFile = common.configFile pkgs cfg "monitor";
      }
      (lib.mkIf pkgs.stdenv.hostPlatform.isDarwin {
        launchd.agents.flotilla-agent = {
          enable = true;
          config = {
            Label = "org.flotilla.agent";
            ProgramArguments = common.command cfg;
            RunAtLoad = true;
            KeepAlive = true;
            ThrottleInterval = 10;
            StandardOutPath = logFile;
            StandardErrorPath = logFile;
            EnvironmentVariables.PATH = searchPath;
          };
        };
      })
      (lib.mkIf (!pkgs.stdenv.hostPlatform.isDarwin) {
        systemd.user.services.flotilla-agent = {
          Unit = {
            Description = "Flotilla agent (monitor mode)";
            After = [ "network-online.target" ];
          };
          Service = {
            ExecStart = lib.escapeShellArgs (common.command cfg);
            Restart = "always";
            RestartSec = 10;
            Environment = [ "PATH=${searchPath}" ];
          };
          Install.WantedBy = [ "default.target" ];
        };
      })
    ]
  );
}
