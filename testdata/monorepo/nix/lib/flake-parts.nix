# A small look-alike of flake-parts, so the fixture evaluates offline with no
# inputs. `lib.mkFlake { inputs; } module` evaluates a module tree and returns
# flake outputs.
#
# A module is an attribute set, a path to one, or a function of
# `{ self, inputs, lib, config, withSystem, ... }` returning
# `{ imports ? [ ], perSystem ? { }, flake ? { } }`. `perSystem` is an attribute
# set or a function of `{ self', inputs', pkgs, system, config, lib, ... }`;
# `self'` and `config` are the merged per-system outputs (a lazy fixed point),
# and `_module.args.NAME` makes NAME an argument of every perSystem function.
let
  inherit (builtins)
    attrNames concatMap elem filter foldl' functionArgs genList head isAttrs
    isFunction isPath isString length listToAttrs mapAttrs removeAttrs;

  genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);

  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  # Merges attribute sets recursively; derivations and other values are
  # leaves, and a later definition of a leaf wins.
  merge = a: b:
    a // mapAttrs
      (n: v:
        if a ? ${n} && isAttrs v && isAttrs a.${n} && !(isDerivation v) && !(isDerivation a.${n})
        then merge a.${n} v
        else v)
      b;
  mergeAll = foldl' merge { };

  # Calls a module function with exactly the arguments it names (plus the
  # fixed ones when it accepts `...`), so arguments that come from the fixed
  # point are only forced when used.
  callWith = fixed: extra: f:
    if isFunction f
    then f (fixed // mapAttrs (n: _: extra.${n}) (removeAttrs (functionArgs f) (attrNames fixed)))
    else f;

  lib = { inherit genAttrs merge mergeAll isDerivation; };

  mkFlake = { inputs }: root:
    let
      self = inputs.self;
      topArgs = { inherit self inputs lib withSystem; config = flake; };

      load = m: if isPath m || isString m then import m else m;

      # Depth-first list of every module, imports resolved.
      collect = m:
        let
          v = callWith topArgs { } (load m);
        in
        [ v ] ++ concatMap collect (v.imports or [ ]);
      modules = collect root;

      systems = concatMap (m: m.systems or [ ]) modules;

      perSystem = system:
        let
          fixed = {
            inherit system lib;
            self' = config;
            config = config;
            inputs' = mapAttrs (_: i: perSystemView system i) inputs;
          };
          results = map (m: callWith fixed (config._module.args or { }) (m.perSystem or { })) modules;
          config = mergeAll results;
        in
        removeAttrs config [ "_module" ];

      perSystemView = system: input:
        mapAttrs (_: v: if isAttrs v && v ? ${system} then v.${system} else v) input;

      bySystem = genAttrs systems perSystem;

      withSystem = system: f: f ({ inherit system lib; config = bySystem.${system}; self' = bySystem.${system}; inputs' = mapAttrs (_: perSystemView system) inputs; });

      kinds = [ "packages" "devShells" "apps" "checks" "legacyPackages" ];
      perSystemOutputs = genAttrs kinds (k: genAttrs systems (s: bySystem.${s}.${k} or { }));
      formatter = listToAttrs (concatMap (s: if bySystem.${s} ? formatter then [{ name = s; value = bySystem.${s}.formatter; }] else [ ]) systems);

      flake = merge (perSystemOutputs // { inherit formatter; }) (mergeAll (map (m: m.flake or { }) modules));
    in
    flake;
in
{
  lib = { inherit mkFlake; } // lib;
}
