# Evaluates a flake's outputs without copying the repository into the store
# first, the way `nix print-dev-env` would see them.
#
#   root:     the repository root, an absolute path
#   flake:    the flake.nix to call (the root's, or a pruned copy of it)
#   lock:     the contents of flake.lock, or null when there is none
#   selfSrc:  "git" (tracked files, as flakes copy a git work tree) or "path"
#
# `self.outPath` is a store path that is only copied when something forces it,
# with the same name ("source") and the same file set as nix's own copy, so
# derivations that use it get the same store path. Inputs come from the lock:
# `path:` inputs with a relative path are read from the working tree, the
# others are fetched with builtins.fetchTree from their locked attributes.
{ root, flake, lock, selfSrc }:
let
  # Laziness matters: attribute names must be known without copying anything.
  copyOf = path:
    if selfSrc == "git"
    then builtins.fetchGit { url = toString path; }
    else { outPath = builtins.path { inherit path; name = "source"; }; };

  # The trace tells monoflake that the result depends on every file of the
  # copy, not only on the files evaluated.
  rootInfo =
    let src = builtins.trace "monoflake-copied-self" (copyOf root); in
    {
      outPath = src.outPath;
      lastModified = src.lastModified or 1;
      lastModifiedDate = src.lastModifiedDate or "19700101000000";
    };

  lockFile = if lock == null then { root = "root"; nodes.root = { }; } else builtins.fromJSON lock;

  isRelativePath = locked:
    (locked.type or "") == "path" && builtins.substring 0 1 (locked.path or "/") != "/";

  nodeSource = node:
    let locked = node.locked; in
    if isRelativePath locked then
      let dir = root + "/${locked.path}"; in
      {
        outPath = builtins.path { path = dir; name = "source"; };
        lastModified = locked.lastModified or 1;
        narHash = locked.narHash or "";
        workTree = dir;
      }
    else
      builtins.fetchTree (node.info or { } // removeAttrs locked [ "dir" ]);

  # A node name, or a follows path from the root node.
  resolve = spec: if builtins.isList spec then follow lockFile.root spec else spec;
  follow = name: path:
    if path == [ ] then name
    else follow (resolve lockFile.nodes.${name}.inputs.${builtins.head path}) (builtins.tail path);

  nodes = builtins.mapAttrs
    (name: node:
      let
        isRoot = name == lockFile.root;
        sourceInfo = if isRoot then rootInfo else nodeSource node;
        subdir = if isRoot then "" else node.locked.dir or "";
        # Flake files of the working tree are imported in place: reading
        # them must not copy anything.
        flakeFile =
          if isRoot then flake
          else if sourceInfo ? workTree then sourceInfo.workTree + "/flake.nix"
          else sourceInfo.outPath + (if subdir == "" then "" else "/${subdir}") + "/flake.nix";
        flakeExpr = import flakeFile;
        inputs = builtins.mapAttrs (_: spec: nodes.${resolve spec}) (node.inputs or { });
        outputs = flakeExpr.outputs (inputs // { self = result; });
        result = outputs // removeAttrs sourceInfo [ "workTree" ] // {
          inherit inputs outputs;
          sourceInfo = removeAttrs sourceInfo [ "workTree" ];
          _type = "flake";
        };
      in
      if node.flake or true then result else removeAttrs sourceInfo [ "workTree" ])
    lockFile.nodes;
in
nodes.${lockFile.root}
