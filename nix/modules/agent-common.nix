# What the NixOS, nix-darwin and home-manager agent modules share: the options that become
# the agent's config file (packages/agent/src/config.ts reads it with `--config FILE`), and
# the file itself. Every key written here is one the agent's config file accepts; unknown
# keys are errors there, so a typo fails the agent's start instead of being ignored.
{ lib }:
let
  inherit (lib) mkOption types;
  paths = import ./secret-path.nix { inherit lib; };
in
{
  /**
    The options of `services.flotilla.agent` every platform has.
    `defaultHost` and `defaultStateDir` are the platform's defaults (null: none, required).
  */
  options =
    {
      pkgs,
      packagesFor,
      defaultHost,
      defaultStateDir,
    }:
    {
      enable = lib.mkEnableOption "the Flotilla agent";

      package = mkOption {
        type = types.package;
        default = (packagesFor pkgs.stdenv.hostPlatform.system).agent;
        defaultText = lib.literalExpression "flotilla.packages.\${system}.agent";
        description = "The package providing `bin/flotilla-agent`.";
      };

      controllerUrl = mkOption {
        type = types.strMatching "wss?://.+";
        example = "wss://fleet.example.org/api/v1/agent/ws";
        description = ''
          The controller's agent gateway. `wss://` (TLS) unless the controller runs on this
          host (`ws://127.0.0.1:8080/api/v1/agent/ws`).
        '';
      };

      host = mkOption {
        type = types.strMatching "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
        description = "This host's name in the fleet (a lowercase DNS label).";
      }
      // lib.optionalAttrs (defaultHost != null) { default = defaultHost; };

      enrollmentTokenFile = mkOption {
        type = types.nullOr paths.secretPath;
        default = null;
        example = "/run/secrets/flotilla-enrollment-token";
        description = ''
          File holding the one-time enrollment token from `flotilla host add NAME` (or
          `flotilla host enroll NAME`). Read only until the agent has enrolled its own key;
          afterwards the file may be deleted. Never put it in the Nix store: give a path
          managed by sops-nix, agenix or by hand.
        '';
      };

      trustedPublicKeys = mkOption {
        type = types.listOf (types.strMatching "[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=");
        default = [ ];
        example = [ "fleet.example.org-1:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG=" ];
        description = ''
          The keys every closure this host fetches must be signed with: the controller's
          cache key as `flotilla cache` prints it. Pinned here, never taken from the
          controller. Required for managed hosts.
        '';
      };

      healthChecks = mkOption {
        type = types.listOf (types.attrsOf types.anything);
        default = [ ];
        example = [
          {
            kind = "unit";
            unit = "sshd.service";
          }
          {
            kind = "http";
            url = "http://127.0.0.1:8123/";
            timeoutSeconds = 20;
          }
        ];
        description = ''
          Checks run (as root) after each activation; a failing one rolls the host back.
          Each is `{ kind = "unit"; unit = …; }`, `{ kind = "http"; url = …; }` or
          `{ kind = "command"; argv = [ … ]; }`, with an optional `timeoutSeconds`.
        '';
      };

      caFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "PEM file of a CA the controller's certificate must chain to, instead of the system's.";
      };

      certificatePin = mkOption {
        type = types.nullOr (types.strMatching "sha256//[A-Za-z0-9+/]{43}=");
        default = null;
        description = "Also require this SHA-256 of the controller certificate's public key.";
      };

      stateDir = mkOption {
        type = types.str;
        description = "The agent's own key, its deployment journal and GC roots.";
      }
      // lib.optionalAttrs (defaultStateDir != null) { default = defaultStateDir; };

      prefetch = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Prepare waiting deployments when the controller asks (fetch the closure ahead and
          tell what activation would change). Off for a metered link or a small disk.
        '';
      };

      logLevel = mkOption {
        type = types.enum [
          "debug"
          "info"
          "warn"
          "error"
        ];
        default = "info";
        description = "How much the agent logs.";
      };

      settings = mkOption {
        type = types.attrsOf types.anything;
        default = { };
        example = {
          disks = [
            "/"
            "/nix"
            "/srv"
          ];
        };
        description = ''
          Further keys of the agent's config file (see `flotilla-agent --help`), merged over
          the ones the options above set. No secrets: this file is in the Nix store.
        '';
      };

      configFile = mkOption {
        type = types.package;
        readOnly = true;
        internal = true;
        description = "The generated config file the agent is started with.";
      };
    };

  /** The agent's config file for `cfg` (the module's `services.flotilla.agent`) in `mode`. */
  configFile =
    pkgs: cfg: mode:
    pkgs.writeText "flotilla-agent.json" (
      builtins.toJSON (
        lib.recursiveUpdate (
          {
            inherit (cfg)
              controllerUrl
              host
              trustedPublicKeys
              healthChecks
              stateDir
              prefetch
              logLevel
              ;
            inherit mode;
          }
          // lib.filterAttrs (_: value: value != null) {
            inherit (cfg) enrollmentTokenFile caFile certificatePin;
          }
        ) cfg.settings
      )
    );

  /** The program and its arguments: only the config file, never a secret. */
  command = cfg: [
    "${cfg.package}/bin/flotilla-agent"
    "--config"
    "${cfg.configFile}"
  ];

  assertions = cfg: mode: [
    {
      assertion = mode == "monitor" || cfg.trustedPublicKeys != [ ];
      message = ''
        services.flotilla.agent.trustedPublicKeys: a managed host needs the key its closures
        are signed with (`flotilla cache` prints it).
      '';
    }
  ];
}
