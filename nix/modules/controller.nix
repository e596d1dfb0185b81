# NixOS: the Flotilla controller as a system service, with the Nix settings it needs, remote
# builders and an optional Traefik router. The controller reads one JSON config file
# (packages/controller/src/config.ts); this module writes it into the Nix store, so it holds
# no secret: each secret is a file handed to the service with systemd's LoadCredential and
# named in the config by its path under /run/credentials/, which only the service can read.
# `packagesFor system` gives the flake's packages for a system (the default package).
{ packagesFor }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.services.flotilla.controller;
  paths = import ./secret-path.nix { inherit lib; };
  unitName = "flotilla-controller";
  credentialsDirectory = "/run/credentials/${unitName}.service";

  # Secret options → the name of their credential, when set.
  secretCredentials = lib.filterAttrs (_: file: file != null) {
    "repository-token" = cfg.repository.tokenFile;
    "repository-ssh-key" = cfg.repository.sshKeyFile;
    "webhook-secret" = cfg.repository.webhookSecretFile;
    "initial-admin-password" = cfg.initialAdminPasswordFile;
    "database-url" = cfg.databaseUrlFile;
  };
  credentials = secretCredentials // cfg.credentials;
  credential = name: if credentials ? ${name} then "${credentialsDirectory}/${name}" else null;

  listen =
    if lib.hasInfix ":" cfg.listenAddress then
      "[${cfg.listenAddress}]:${toString cfg.port}"
    else
      "${cfg.listenAddress}:${toString cfg.port}";
  # Where a proxy on this host reaches the controller.
  localHost =
    if cfg.listenAddress == "0.0.0.0" then
      "127.0.0.1"
    else if cfg.listenAddress == "::" then
      "[::1]"
    else if lib.hasInfix ":" cfg.listenAddress then
      "[${cfg.listenAddress}]"
    else
      cfg.listenAddress;
  localUrl = "http://${localHost}:${toString cfg.port}";

  withoutNulls = lib.filterAttrs (_: value: value != null);

  repository = lib.optionalAttrs (cfg.repository.url != null) {
    repository = withoutNulls {
      inherit (cfg.repository)
        url
        branch
        flakeDir
        pollIntervalSeconds
        allowForcePush
        ;
      tokenFile = credential "repository-token";
      sshKeyFile = credential "repository-ssh-key";
      webhookSecretFile = credential "webhook-secret";
    };
  };

  settings = lib.recursiveUpdate (
    withoutNulls {
      inherit (cfg) stateDir publicUrl trustedProxies;
      inherit listen;
      databaseUrlFile = credential "database-url";
      builds = withoutNulls {
        inherit (cfg.builds)
          concurrency
          remoteOnly
          builders
          buildersUseSubstitutes
          ;
      };
      auth = withoutNulls { initialAdminPasswordFile = credential "initial-admin-password"; };
    }
    // repository
  ) cfg.settings;

  # The agents' own paths: the gateway and enrollment, the binary cache, GitHub's webhook.
  # They get a router of their own, without the middlewares meant for people (an agent
  # cannot pass a login page); the controller checks every request on them itself.
  machinePaths = "PathPrefix(`/api/v1/agent/`) || PathPrefix(`/cache/`) || Path(`/api/v1/webhooks/github`)";
  traefikTls = if cfg.traefik.certResolver == null then { } else { inherit (cfg.traefik) certResolver; };
in
{
  options.services.flotilla.controller = {
    enable = lib.mkEnableOption "the Flotilla controller";

    package = mkOption {
      type = types.package;
      default = (packagesFor pkgs.stdenv.hostPlatform.system).controller;
      defaultText = lib.literalExpression "flotilla.packages.\${system}.controller";
      description = "The package providing `bin/flotilla-controller`.";
    };

    user = mkOption {
      type = types.str;
      default = "flotilla";
      description = "The user the controller runs as (created, and made a trusted Nix user).";
    };

    group = mkOption {
      type = types.str;
      default = "flotilla";
      description = "The controller's group.";
    };

    stateDir = mkOption {
      type = types.strMatching "/var/lib/[^/].*";
      default = "/var/lib/flotilla";
      description = ''
        Database, repository mirrors, the binary cache and its signing key, the one-time
        setup token. Under /var/lib (systemd's StateDirectory makes it, 0700). Back it up.
      '';
    };

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      description = "Address to listen on; loopback behind a reverse proxy on this host.";
    };

    port = mkOption {
      type = types.port;
      default = 8080;
      description = "Port to listen on.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open `port` in the firewall (not needed behind a reverse proxy on this host).";
    };

    publicUrl = mkOption {
      type = types.nullOr (types.strMatching "https?://.+");
      default = if cfg.traefik.enable then "https://${cfg.traefik.hostName}" else null;
      defaultText = lib.literalExpression ''"https://''${traefik.hostName}" with Traefik, else null'';
      example = "https://fleet.example.org";
      description = "The URL people and agents reach the controller at.";
    };

    trustedProxies = mkOption {
      type = types.listOf types.str;
      default = lib.optionals cfg.traefik.enable [
        "127.0.0.1"
        "::1"
      ];
      defaultText = lib.literalExpression ''[ "127.0.0.1" "::1" ] with Traefik, else [ ]'';
      description = "Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges).";
    };

    databaseUrlFile = mkOption {
      type = types.nullOr paths.secretPath;
      default = null;
      example = "/run/secrets/flotilla-database-url";
      description = ''
        File holding a `postgres://…` URL (with its password). Unset: SQLite in `stateDir`.
      '';
    };

    initialAdminPasswordFile = mkOption {
      type = types.nullOr paths.secretPath;
      default = null;
      description = ''
        File holding the first admin's password (used once, while no user exists). Unset:
        the first start writes a one-time setup token to `stateDir`/setup-token instead.
      '';
    };

    repository = {
      url = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "https://github.com/you/nixcfg.git";
        description = ''
          The flake repository to track (https, ssh or `git@host:path`; never with a
          password in it). Unset: link one later with `flotilla repository link`.
        '';
      };
      branch = mkOption {
        type = types.str;
        default = "main";
        description = "The branch whose commits are built and deployed.";
      };
      flakeDir = mkOption {
        type = types.str;
        default = "";
        description = "Subdirectory holding flake.nix (empty: the repository's root).";
      };
      pollIntervalSeconds = mkOption {
        type = types.ints.between 5 86400;
        default = 60;
        description = "How often the branch is fetched, besides GitHub's webhook.";
      };
      allowForcePush = mkOption {
        type = types.bool;
        default = false;
        description = "Follow a rewritten branch (otherwise reported, not followed).";
      };
      tokenFile = mkOption {
        type = types.nullOr paths.secretPath;
        default = null;
        description = ''
          File holding an HTTPS access token (GitHub: a fine-grained token with contents:read,
          and contents:write for the web editor's commits).
        '';
      };
      sshKeyFile = mkOption {
        type = types.nullOr paths.secretPath;
        default = null;
        description = "Private key file for an ssh URL (a deploy key).";
      };
      webhookSecretFile = mkOption {
        type = types.nullOr paths.secretPath;
        default = null;
        description = ''
          File holding the GitHub webhook's secret (at least 20 characters, e.g.
          `openssl rand -hex 32`); the webhook URL is `publicUrl`/api/v1/webhooks/github.
        '';
      };
    };

    builds = {
      concurrency = mkOption {
        type = types.ints.between 1 64;
        default = 1;
        description = "Builds run at the same time.";
      };
      remoteOnly = mkOption {
        type = types.bool;
        default = false;
        description = "Build only on remote builders (`--max-jobs 0`): nothing is built on this host.";
      };
      builders = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          Nix `builders` for the controller's builds only. Unset: Nix's own, which
          `remoteBuilders` sets for the whole host.
        '';
      };
      buildersUseSubstitutes = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Nix `builders-use-substitutes` for the controller's builds: builders fetch inputs
          from their own substituters instead of receiving them from this host.
        '';
      };
      # builds.sshKeyFile, sshKnownHostsFile and sshConfigFile are not offered here: they
      # reach Nix's ssh as NIX_SSHOPTS of the controller's own Nix processes, while this
      # module's controller builds through the Nix daemon, which connects to builders as
      # root. Builders' keys belong in the `builders` line or in `remoteBuilders`.
    };

    remoteBuilders = mkOption {
      default = [ ];
      description = ''
        Machines Nix builds on over SSH (`nix.buildMachines`, `nix.distributedBuilds`). The
        Nix daemon connects to them as root: `sshKey` is read by it, not by the controller.
      '';
      type = types.listOf (
        types.submodule {
          options = {
            hostName = mkOption {
              type = types.str;
              example = "gpc0.lan";
              description = "The builder's address.";
            };
            sshUser = mkOption {
              type = types.nullOr types.str;
              default = null;
              description = "SSH user on the builder (a trusted Nix user there).";
            };
            sshKey = mkOption {
              type = types.nullOr paths.secretPath;
              default = null;
              description = "Private key the Nix daemon uses to reach the builder.";
            };
            publicHostKey = mkOption {
              type = types.nullOr types.str;
              default = null;
              description = "The builder's SSH host key, base64 (as `nix.buildMachines` takes it).";
            };
            systems = mkOption {
              type = types.listOf types.str;
              default = [ "x86_64-linux" ];
              description = "Systems it builds for.";
            };
            maxJobs = mkOption {
              type = types.ints.positive;
              default = 1;
              description = "Builds it runs at once.";
            };
            speedFactor = mkOption {
              type = types.ints.positive;
              default = 1;
              description = "Preference among builders (higher is preferred).";
            };
            supportedFeatures = mkOption {
              type = types.listOf types.str;
              default = [
                "nixos-test"
                "benchmark"
                "big-parallel"
                "kvm"
              ];
              description = "System features it offers.";
            };
          };
        }
      );
    };

    credentials = mkOption {
      type = types.attrsOf paths.secretPath;
      default = { };
      example = {
        ntfy-token = "/run/secrets/ntfy-token";
      };
      description = ''
        Further secret files handed to the service (systemd LoadCredential), each readable by
        the controller as `credentialsDirectory`/NAME; name them in `settings`, e.g.
        `settings.notifications.ntfy = [ { server = "https://ntfy.sh"; topic = "fleet";
        tokenFile = "''${config.services.flotilla.controller.credentialsDirectory}/ntfy-token"; } ];`
      '';
    };

    credentialsDirectory = mkOption {
      type = types.str;
      readOnly = true;
      default = credentialsDirectory;
      description = "Where the service finds its credentials.";
    };

    settings = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      example = lib.literalExpression ''
        {
          hosts.gpc0.graduation.stableDays = 7;
          rollout.waves = [ { name = "guinea-pig"; hosts = [ "gpc0" ]; soakSeconds = 86400; } ];
        }
      '';
      description = ''
        Further keys of the controller's config file, in its own format (hosts, rollout,
        deployments, notifications, cache, auth, limits: see the README), merged over the
        ones the options above set. It is written to the Nix store: no secrets here, only
        paths of files holding them (see `credentials`).
      '';
    };

    configFile = mkOption {
      type = types.package;
      readOnly = true;
      internal = true;
      description = "The generated config file the controller is started with.";
    };

    traefik = {
      enable = lib.mkEnableOption "a Traefik router for the controller (services.traefik.dynamicConfigOptions)";
      hostName = mkOption {
        type = types.str;
        example = "fleet.example.org";
        description = "The host name people and agents use; its DNS record points at this host.";
      };
      entryPoints = mkOption {
        type = types.listOf types.str;
        default = [ "websecure" ];
        description = "Traefik's TLS entry points for the routers.";
      };
      certResolver = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "letsencrypt";
        description = "Traefik certificate resolver for the host name (unset: Traefik's default certificate).";
      };
      middlewares = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "authelia@file" ];
        description = ''
          Middlewares for the people's router (web UI and API), e.g. forward authentication.
          The agents' paths (`/api/v1/agent/`, `/cache/`, `/api/v1/webhooks/github`) go
          through a router of their own without them.
        '';
      };
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        services.flotilla.controller.configFile = pkgs.writeText "flotilla-controller.json" (
          builtins.toJSON settings
        );

        users.users.${cfg.user} = {
          isSystemUser = true;
          group = cfg.group;
          home = cfg.stateDir;
          description = "Flotilla controller";
        };
        users.groups.${cfg.group} = { };

        # The controller evaluates flakes, builds, and signs and copies closures through the
        # Nix daemon: signing paths and choosing builders take a trusted user. A definition
        # replaces nixpkgs' default of [ "root" ]: keep root.
        nix.settings = {
          experimental-features = [
            "nix-command"
            "flakes"
          ];
          trusted-users = [
            "root"
            cfg.user
          ];
        };

        networking.firewall.allowedTCPPorts = lib.optionals cfg.openFirewall [ cfg.port ];

        systemd.services.${unitName} = {
          description = "Flotilla controller";
          wantedBy = [ "multi-user.target" ];
          wants = [ "network-online.target" ];
          after = [ "network-online.target" ];
          path = [
            config.nix.package
            pkgs.git
            pkgs.openssh
          ];
          serviceConfig = {
            ExecStart = lib.escapeShellArgs [
              "${cfg.package}/bin/flotilla-controller"
              "--config"
              "${cfg.configFile}"
            ];
            User = cfg.user;
            Group = cfg.group;
            Restart = "on-failure";
            RestartSec = "5s";
            StateDirectory = lib.removePrefix "/var/lib/" cfg.stateDir;
            StateDirectoryMode = "0700";
            # V8's code cache of the controller's program (CACHE_DIRECTORY): a start compiles
            # from it instead of from source. Only the service's user may write it.
            CacheDirectory = unitName;
            CacheDirectoryMode = "0700";
            WorkingDirectory = cfg.stateDir;
            LoadCredential = lib.mapAttrsToList (name: file: "${name}:${file}") credentials;
            UMask = "0077";
            NoNewPrivileges = true;
            PrivateTmp = true;
            ProtectHome = true;
            ProtectSystem = "strict";
            ReadWritePaths = [ cfg.stateDir ];
          };
        };
      }

      (lib.mkIf (cfg.remoteBuilders != [ ]) {
        nix.distributedBuilds = true;
        nix.settings.builders-use-substitutes = true;
        nix.buildMachines = map (builder: {
          inherit (builder)
            hostName
            sshUser
            sshKey
            publicHostKey
            systems
            maxJobs
            speedFactor
            supportedFeatures
            ;
          protocol = "ssh-ng";
        }) cfg.remoteBuilders;
      })

      (lib.mkIf cfg.traefik.enable {
        services.traefik.dynamicConfigOptions.http = {
          routers.flotilla = {
            rule = "Host(`${cfg.traefik.hostName}`)";
            inherit (cfg.traefik) entryPoints middlewares;
            service = "flotilla";
            tls = traefikTls;
          };
          routers.flotilla-agents = {
            rule = "Host(`${cfg.traefik.hostName}`) && (${machinePaths})";
            # Longer rules win by default; say it outright.
            priority = 1000;
            inherit (cfg.traefik) entryPoints;
            service = "flotilla";
            tls = traefikTls;
          };
          # Traefik passes WebSocket upgrades and server-sent events through as they are,
          # and sets X-Forwarded-For/-Proto/-Host, which `trustedProxies` lets count.
          services.flotilla.loadBalancer = {
            servers = [ { url = localUrl; } ];
            passHostHeader = true;
          };
        };
      })
    ]
  );
}
