# Flotilla's programs from this repository, built with nixpkgs' buildNpmPackage.
# Dependencies come from package-lock.json through importNpmLock: every entry there already
# carries its integrity hash, so no hash has to be kept up to date by hand.
#
# The workspace is built once (`workspace`): `npm run build` compiles it and bundles each
# program into dist/ (scripts/bundle.mjs). The controller, the agent and the CLI are each a
# small package holding only its own bundle and one executable in bin/, so a host needs
# Node.js and nothing from npm at run time.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  makeWrapper,
  runCommand,
  nodejs_22,
}:
let
  # The one place that says how the programs are built and where each one starts.
  # `npm run build` compiles the TypeScript (tsc -b) and the web UI, then bundles the
  # programs into dist/<dir>/: the agent and the CLI are one self-contained file each (the
  # agent with its activation runner, a shell script run by /bin/sh, beside it); the
  # controller's entry compiles its program (controller.cjs) with V8's code cache, and keeps
  # the web UI and its two native modules (better-sqlite3, argon2, built here against this
  # Node.js) beside it.
  buildScript = "build";
  programs = {
    controller = {
      bin = "flotilla-controller";
      dir = "controller";
      entry = "flotilla-controller.mjs";
      description = "Flotilla controller: API, web UI, agent gateway, build pipeline and binary cache";
    };
    agent = {
      bin = "flotilla-agent";
      dir = "agent";
      entry = "flotilla-agent.mjs";
      description = "Flotilla agent: reports a host's facts and activates the systems its controller sends";
    };
    cli = {
      bin = "flotilla";
      dir = "cli";
      entry = "flotilla.mjs";
      description = "flotilla: the command-line client of a Flotilla controller";
    };
  };

  nodejs = nodejs_22;
  root = ../.;
  packageJson = lib.importJSON (root + "/package.json");

  # The sources npm needs: no local build output, no demo state, no Nix files (so a change
  # to a module does not rebuild the programs).
  src = lib.cleanSourceWith {
    name = "flotilla-source";
    src = root;
    filter =
      path: type:
      let
        name = baseNameOf path;
        relative = lib.removePrefix (toString root + "/") (toString path);
      in
      !(
        builtins.elem name [
          "node_modules"
          "dist"
          ".demo"
          ".git"
          ".test-state"
          ".cache"
        ]
        || lib.hasSuffix ".tsbuildinfo" name
        || builtins.elem relative [
          "nix"
          "examples"
          "docs"
          "flake.nix"
          "flake.lock"
        ]
      );
  };

  meta = {
    license = lib.licenses.mit;
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };

  workspace = buildNpmPackage {
    pname = "flotilla-workspace";
    inherit (packageJson) version;
    inherit src nodejs;

    npmDeps = importNpmLock { npmRoot = src; };
    npmConfigHook = importNpmLock.npmConfigHook;
    npmBuildScript = buildScript;
    # better-sqlite3 and argon2 compile their native parts against this Node.js.
    nativeBuildInputs = [ nodejs.passthru.python ];

    # importNpmLock turns the workspace's own packages into links to the read-only source
    # in the store; point them at the packages being built here, as `npm ci` would.
    preBuild = ''
      for manifest in packages/*/package.json; do
        dir=$(dirname "$manifest")
        name=$(node -p "require('./$manifest').name")
        rm -rf "node_modules/$name"
        mkdir -p "$(dirname "node_modules/$name")"
        ln -s "../../$dir" "node_modules/$name"
      done
    '';

    installPhase = ''
      runHook preInstall
      mkdir -p $out/lib/flotilla
      cp -r dist/. $out/lib/flotilla/
      runHook postInstall
    '';

    meta = meta // {
      description = "Flotilla's bundled programs (installed one by one as the controller, agent and cli packages)";
    };
  };

  program =
    name:
    let
      p = programs.${name};
    in
    runCommand "${p.bin}-${workspace.version}"
      {
        nativeBuildInputs = [ makeWrapper ];
        passthru = { inherit workspace; };
        meta = meta // {
          inherit (p) description;
          mainProgram = p.bin;
        };
      }
      # A program's Node.js flags, when the bundle names any (dist/agent/node-flags: the
      # agent's memory settings, see scripts/bundle.mjs), go before the program.
      ''
        mkdir -p $out/bin $out/lib
        cp -r ${workspace}/lib/flotilla/${p.dir} $out/lib/${p.dir}
        flags=""
        if [ -e $out/lib/${p.dir}/node-flags ]; then
          flags="$(cat $out/lib/${p.dir}/node-flags) "
        fi
        makeWrapper ${lib.getExe nodejs} $out/bin/${p.bin} \
          --add-flags "$flags$out/lib/${p.dir}/${p.entry}"
      '';
in
{
  inherit workspace;
  controller = program "controller";
  agent = program "agent";
  cli = program "cli";
}
