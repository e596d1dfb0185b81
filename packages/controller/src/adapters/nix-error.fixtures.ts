/**
 * Nix error texts for the parser's tests.
 *
 * `NIX_2_8` is stderr recorded verbatim from `nix eval --raw --expr
 * '(builtins.getFlake "git+file://…?rev=…").nixosConfigurations."gpc0".config.system.build.toplevel.drvPath'`
 * on Nix 2.8.0 against the sandbox flake (packages/sandbox/src/flake.ts) with one file
 * broken per case (`flakeBroken`: the names call with flake.nix broken).
 *
 * `NEWER` follows the layout of Nix 2.13 and later (a bare `error:`, trace frames with
 * their own `at`, an optional "stack trace truncated" line, then the innermost `error:`
 * directly followed by its position); the machine these tests run on has Nix 2.8 only,
 * so these were written in that layout, not recorded.
 */

/** The flake's source tree in the NEWER texts. */
export const NEWER_SOURCE = '/nix/store/ffg59zcx6nf9ynnx2nlwibrf5h8anb12-source';
/** An input (nixpkgs) in the NEWER texts. */
export const NIXPKGS_SOURCE = '/nix/store/qszplw617r895nbcprgyj139c9a3r0xs-source';

export const NIX_2_8 = {
  syntax: [
    "error: syntax error, unexpected end of file, expecting ';'",
    '',
    '       at /nix/store/ffg59zcx6nf9ynnx2nlwibrf5h8anb12-source/hosts/gpc0.nix:1:30:',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  undefinedVar: [
    "error: undefined variable 'foo'",
    '',
    '       at /nix/store/l9b58ihghkxwix5cp40ja2q0i37lw12f-source/hosts/gpc0.nix:1:29:',
    '',
    '            1| { version = "1"; exitCode = foo; }',
    '             |                             ^',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  typeAdd: [
    'error: cannot add a string to an integer',
    '',
    '       at /nix/store/0xzkwjmwr6q7g3vj434dk7mmya0ljsnf-source/hosts/gpc0.nix:1:33:',
    '',
    '            1| { version = "1"; exitCode = 0 + "x"; }',
    '             |                                 ^',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  multilineSelect: [
    'error: value is an integer while a set was expected',
    '',
    '       at /nix/store/kkcx2byqavzk0dx6n5wpvkkx8qlamdsx-source/hosts/gpc0.nix:5:14:',
    '',
    '            4|   version = "1";',
    '            5|   exitCode = a.b;',
    '             |              ^',
    '            6| }',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  missingAttr: [
    "error: attribute 'exitCode' missing",
    '',
    '       at /nix/store/lfi4r1knsg90iwwffsw1nbgasazkni0c-source/flake.nix:6:52:',
    '',
    '            5|       mkHost = hostName: settings: {',
    '            6|         config.system.build.toplevel = derivation {',
    '             |                                                    ^',
    '            7|           name = "nixos-system-${hostName}-${settings.version}";',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  typeIntInString: [
    'error: cannot coerce an integer to a string',
    '',
    '       at /nix/store/7nskmrjlvrk71az4d8xc117ymbfqa5zi-source/flake.nix:7:44:',
    '',
    '            6|         config.system.build.toplevel = derivation {',
    '            7|           name = "nixos-system-${hostName}-${settings.version}";',
    '             |                                            ^',
    '            8|           system = "x86_64-linux";',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  missingFile: [
    "error: getting status of '/nix/store/g7kg4v4sq2kbq0li5fiwb8khxxhchp9r-source/hosts/nope.nix': No such file or directory",
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  throw: [
    'error: gpc0 is retired',
    "(use '--show-trace' to show detailed location information)",
    '',
  ].join('\n'),
  flakeBroken: [
    "error: syntax error, unexpected ';'",
    '',
    '       at /nix/store/6pbc7kbx396rlmf9a5afhn4jnafvck9z-source/flake.nix:2:17:',
    '',
    '            1| {',
    '            2|   description = ;"Sandboxed Flotilla fleet: tiny systems that build offline, no nixpkgs";',
    '             |                 ^',
    '            3|   outputs = { self }:',
    '',
  ].join('\n'),
};

export const NEWER = {
  syntax: [
    'error:',
    '       … while evaluating the attribute \'nixosConfigurations."gpc0".config.system.build.toplevel.drvPath\'',
    `         at ${NEWER_SOURCE}/flake.nix:22:9:`,
    '           21|       nixosConfigurations = {',
    '           22|         gpc0 = mkHost "gpc0" (import ./hosts/gpc0.nix);',
    '             |         ^',
    '',
    "       … while calling the 'import' builtin",
    `         at ${NEWER_SOURCE}/flake.nix:22:31:`,
    '           21|       nixosConfigurations = {',
    '           22|         gpc0 = mkHost "gpc0" (import ./hosts/gpc0.nix);',
    '             |                               ^',
    '',
    "       (stack trace truncated; use '--show-trace' to show the full, detailed trace)",
    '',
    "       error: syntax error, unexpected end of file, expecting ';'",
    `       at ${NEWER_SOURCE}/hosts/gpc0.nix:1:30:`,
    '            1| { version = "3"; exitCode = 0',
    '             |                              ^',
    '',
  ].join('\n'),
  /** A NixOS module error: a throw, no position of its own, the file named in the message. */
  optionMissing: [
    'error:',
    "       … while evaluating the attribute 'config.system.build.toplevel'",
    `         at ${NIXPKGS_SOURCE}/lib/modules.nix:334:9:`,
    '          333|         options = checked options;',
    '          334|         config = checked (removeAttrs config [ "_module" ]);',
    '             |         ^',
    '',
    "       (stack trace truncated; use '--show-trace' to show the full, detailed trace)",
    '',
    "       error: The option `services.ngnix' does not exist. Definition values:",
    `       - In \`${NEWER_SOURCE}/hosts/gpc0/configuration.nix':`,
    '           {',
    '             enable = true;',
    '           }',
    '',
  ].join('\n'),
  /** The error is inside nixpkgs; the innermost frame in the flake is the user's line. */
  inputError: [
    'error:',
    '       … while calling anonymous lambda',
    `         at ${NIXPKGS_SOURCE}/lib/attrsets.nix:1205:18:`,
    '         1204|         mapAttrs',
    '         1205|           (name: value:',
    '             |                  ^',
    '',
    '       … from call site',
    `         at ${NEWER_SOURCE}/hosts/gpc0/users.nix:7:38:`,
    '            6|',
    '            7|   cfg = filterAttrs (n: f: f.enable) config.users.extra;',
    '             |                                      ^',
    '',
    "       … while calling the 'attrNames' builtin",
    `         at ${NIXPKGS_SOURCE}/lib/attrsets.nix:647:114:`,
    '          646|     set:',
    '          647|     listToAttrs (concatMap (name: value) (attrNames set));',
    '             |                                           ^',
    '',
    '       error: value is a list while a set was expected',
    `       at ${NIXPKGS_SOURCE}/lib/attrsets.nix:647:124:`,
    '          647|     listToAttrs (concatMap (name: value) (attrNames set));',
    '             |                                                     ^',
    '',
  ].join('\n'),
};
