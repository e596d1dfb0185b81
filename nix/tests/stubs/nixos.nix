# The NixOS options Flotilla's modules set, declared with the types nixpkgs gives them (a
# subset: setting anything not declared here fails, as would a type error).
{ lib, ... }:
let
  inherit (lib) mkOption types;
  # nixpkgs' systemd unitOption: an atom or a list of atoms.
  atom = types.nullOr (
    types.oneOf [
      types.bool
      types.int
      types.str
      types.path
      types.package
    ]
  );
  unitOption = types.either atom (types.listOf atom);
  unitNames = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  service = types.submodule {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
      };
      description = mkOption {
        type = types.str;
        default = "";
      };
      wantedBy = unitNames;
      requiredBy = unitNames;
      wants = unitNames;
      requires = unitNames;
      after = unitNames;
      before = unitNames;
      path = mkOption {
        type = types.listOf (types.either types.package types.str);
        default = [ ];
      };
      environment = mkOption {
        type = types.attrsOf (
          types.nullOr (
            types.oneOf [
              types.str
              types.path
              types.package
            ]
          )
        );
        default = { };
      };
      restartIfChanged = mkOption {
        type = types.bool;
        default = true;
      };
      reloadIfChanged = mkOption {
        type = types.bool;
        default = false;
      };
      stopIfChanged = mkOption {
        type = types.bool;
        default = true;
      };
      unitConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
      serviceConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
      script = mkOption {
        type = types.lines;
        default = "";
      };
    };
  };
  user = types.submodule {
    options = {
      isSystemUser = mkOption {
        type = types.bool;
        default = false;
      };
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
      };
      group = mkOption {
        type = types.str;
        default = "";
      };
      extraGroups = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      home = mkOption {
        type = types.path;
        default = "/var/empty";
      };
      createHome = mkOption {
        type = types.bool;
        default = false;
      };
      description = mkOption {
        type = types.str;
        default = "";
      };
      openssh.authorizedKeys.keys = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
    };
  };
  group = types.submodule {
    options = {
      gid = mkOption {
        type = types.nullOr types.int;
        default = null;
      };
      members = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
    };
  };
  # nixpkgs' nix.settings: declared keys plus a freeform of atoms and lists of atoms.
  confAtom = types.oneOf [
    types.bool
    types.int
    types.str
    types.path
    types.package
  ];
  buildMachine = types.submodule {
    options = {
      hostName = mkOption { type = types.str; };
      protocol = mkOption {
        type = types.enum [
          null
          "ssh"
          "ssh-ng"
        ];
        default = "ssh";
      };
      system = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
      systems = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      sshUser = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
      sshKey = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
      maxJobs = mkOption {
        type = types.int;
        default = 1;
      };
      speedFactor = mkOption {
        type = types.int;
        default = 1;
      };
      mandatoryFeatures = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      supportedFeatures = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      publicHostKey = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
    };
  };
in
{
  imports = [ ./common.nix ];

  options = {
    networking.hostName = mkOption {
      type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "nixos";
    };
    networking.domain = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    networking.firewall.allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [ ];
    };
    systemd.services = mkOption {
      type = types.attrsOf service;
      default = { };
    };
    users.users = mkOption {
      type = types.attrsOf user;
      default = { };
    };
    users.groups = mkOption {
      type = types.attrsOf group;
      default = { };
    };
    nix.package = mkOption {
      type = types.package;
      default = {
        type = "derivation";
        name = "nix-2.24.0";
        outPath = "/nix/store/00000000000000000000000000000000-nix-2.24.0";
      };
    };
    nix.distributedBuilds = mkOption {
      type = types.bool;
      default = false;
    };
    nix.buildMachines = mkOption {
      type = types.listOf buildMachine;
      default = [ ];
    };
    nix.settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (types.either confAtom (types.listOf confAtom));
        options = {
          trusted-users = mkOption {
            type = types.listOf types.str;
            default = [ "root" ];
          };
          experimental-features = mkOption {
            type = types.listOf types.str;
            default = [ ];
          };
          trusted-public-keys = mkOption {
            type = types.listOf types.str;
            default = [ ];
          };
          substituters = mkOption {
            type = types.listOf types.str;
            default = [ ];
          };
        };
      };
      default = { };
    };
    services.traefik.enable = mkOption {
      type = types.bool;
      default = false;
    };
    # nixpkgs: (pkgs.formats.toml { }).type, attribute sets merged key by key.
    services.traefik.dynamicConfigOptions = mkOption {
      type = types.attrsOf types.anything;
      default = { };
    };
    services.traefik.staticConfigOptions = mkOption {
      type = types.attrsOf types.anything;
      default = { };
    };
    # What the example's hosts set besides Flotilla, so they evaluate as written.
    system.stateVersion = mkOption {
      type = types.str;
      default = "25.05";
    };
  };
}
