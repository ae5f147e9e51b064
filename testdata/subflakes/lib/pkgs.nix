# A tiny stand-in for nixpkgs, built on builtins.derivation so the fixture
# needs no inputs. Everything builds with /bin/bash and the host's coreutils.
system:
let
  inherit (builtins) concatMap concatStringsSep derivation removeAttrs;

  binPath = pkgs: concatStringsSep ":" (map (p: "${p}/bin") pkgs ++ [ "/bin" "/usr/bin" ]);

  # The script ends with a bash builtin so that bash never execs its last
  # command: coreutils close stdout and stderr just before exiting, and nix
  # 2.8 kills the builder as soon as its log pipe closes, so under load a
  # build whose last command is, say, chmod fails "due to signal 9".
  mkDerivation = { name, buildScript, buildInputs ? [ ], ... }@args:
    derivation (removeAttrs args [ "buildScript" "buildInputs" ] // {
      inherit name system;
      builder = "/bin/bash";
      args = [ "-euc" (buildScript + "\n:") ];
      outputs = [ "out" ];
      PATH = binPath buildInputs;
    });

  writeShellScriptBin = name: text: mkDerivation {
    name = name;
    inherit text;
    buildScript = ''
      mkdir -p "$out/bin"
      printf '#!/bin/bash\n%s\n' "$text" > "$out/bin/${name}"
      chmod +x "$out/bin/${name}"
    '';
  };

  # A devShell: `packages` (and those of `inputsFrom` shells) end up on PATH,
  # shellHooks are concatenated like nixpkgs' mkShell does, and every other
  # attribute becomes an environment variable. The builder is bash and the
  # only output is `out`, which is what `nix print-dev-env` needs.
  mkShell = { name ? "nix-shell", packages ? [ ], inputsFrom ? [ ], shellHook ? "", ... }@args:
    let
      allPackages = concatMap (s: s.shellPackages or [ ]) inputsFrom ++ packages;
      hooks = map (s: s.shellHook or "") inputsFrom ++ [ shellHook ];
      drv = derivation (removeAttrs args [ "packages" "inputsFrom" "shellHook" ] // {
        inherit name system;
        builder = "/bin/bash";
        args = [ "-c" "echo 'This derivation is meant for nix develop and nix print-dev-env.' > $out" ];
        outputs = [ "out" ];
        PATH = binPath allPackages;
        shellHook = concatStringsSep "\n" (builtins.filter (h: h != "") hooks);
      });
    in
    drv // { shellPackages = allPackages; };

  # Fake tool chains: tiny scripts that answer like the real ones.
  python3 = writeShellScriptBin "python3" ''echo "Python 3.11.4 (fake)"'';
  cargo = writeShellScriptBin "cargo" ''echo "cargo 1.72.0 (fake) $*"'';
  rustc = writeShellScriptBin "rustc" ''echo "rustc 1.72.0 (fake)"'';
  nodejs = writeShellScriptBin "node" ''echo "v20.5.0 (fake)"'';
  terraform = writeShellScriptBin "terraform" ''echo "Terraform v1.5.7 (fake)"'';
in
{
  inherit system mkDerivation mkShell writeShellScriptBin binPath;
  inherit python3 cargo rustc nodejs terraform;
}
