//! The crate's shape, read from `src/` as a newcomer reads it (`grep -rn "crate::" src`): every
//! top-level module is in one of the layers `CONTRIBUTING.md` lists, imports only from its own
//! layer or those above it, and no modules import each other in a circle. The library names no
//! option of its CLI. Test modules (`#[cfg(test)] mod`) and comments are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Each module of `CONTRIBUTING.md`'s "Layers" list, with its layer's rank (0 the lowest).
fn layers() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("CONTRIBUTING.md")).unwrap();
    let section = text.split("\n## Layers").nth(1).expect("CONTRIBUTING.md has a Layers section");
    let section = section.split("\n## ").next().unwrap();
    // An item is a numbered line and the indented lines that go on with it.
    let mut items: Vec<String> = Vec::new();
    for line in section.lines() {
        match items.last_mut() {
            _ if line.starts_with(|c: char| c.is_ascii_digit()) => items.push(line.to_string()),
            Some(item) if line.starts_with("   ") => item.push_str(line),
            _ => {}
        }
    }
    let mut ranks = BTreeMap::new();
    for (rank, line) in items.iter().enumerate() {
        for name in line.split('`').skip(1).step_by(2) {
            assert!(ranks.insert(name.to_string(), rank).is_none(), "{name} is in two layers");
        }
    }
    assert!(ranks.len() > 10, "the layers list names the modules: {ranks:?}");
    ranks
}

/// Every file of the library ending in `ext` (the CLI's `src/bin/` is not part of it), with its
/// text.
fn library_files(ext: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut folders = vec![Path::new(ROOT).join("src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.file_name().is_some_and(|name| name != "bin") {
                folders.push(path);
            } else if path.extension().is_some_and(|found| found == ext) {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files
}

/// The code of a file without its test module and its comments.
fn code(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]\nmod ").next().unwrap();
    let lines = before_tests.lines().map(|line| match line.trim_start().starts_with("//") {
        true => "",
        false => line,
    });
    lines.collect::<Vec<_>>().join("\n")
}

/// The names right after each `crate::` (each one of a `crate::{a, b::C}` group).
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for rest in code.split("crate::").skip(1) {
        let group = match rest.strip_prefix('{') {
            Some(inner) => inner.split('}').next().unwrap_or(""),
            None => rest,
        };
        for item in group.split(',') {
            let name: String =
                item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.push(name);
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    names
}

/// Which module a name at the crate root is: a module, or an item `lib.rs` re-exports.
fn module_of(name: &str, re_exports: &BTreeMap<String, String>) -> Option<String> {
    re_exports.get(name).cloned()
}

/// `lib.rs`'s modules (each its own name) and its `pub use module::{Item, ...}` re-exports.
fn root_names(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in code(lib).lines() {
        let line = line.trim();
        if let Some(module) = line.strip_prefix("mod ").or_else(|| line.strip_prefix("pub mod ")) {
            let module = module.trim_end_matches(';');
            names.insert(module.to_string(), module.to_string());
        } else if let Some(path) = line.strip_prefix("pub use ") {
            let (module, items) = path.split_once("::").unwrap_or((path, ""));
            let items = items.trim_matches(|c| c == '{' || c == '}' || c == ';');
            for item in items.split(',').map(str::trim).filter(|item| !item.is_empty()) {
                names.insert(item.to_string(), module.to_string());
            }
        }
    }
    names
}

/// Each top-level module and the top-level modules it imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    let root = root_names(&lib);
    let src = Path::new(ROOT).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in library_files("rs") {
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let used = crate_paths(&code(&text)).into_iter().filter_map(|name| module_of(&name, &root));
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(used.filter(|used| *used != module));
    }
    graph
}

#[test]
fn every_module_imports_from_its_layer_or_those_above() {
    let ranks = layers();
    let mut wrong = Vec::new();
    for (module, used) in imports() {
        let Some(&rank) = ranks.get(&module) else {
            wrong.push(format!("{module} is in no layer of CONTRIBUTING.md"));
            continue;
        };
        for used in used {
            match ranks.get(&used) {
                Some(&below) if below <= rank => {}
                _ => wrong.push(format!("{module} (layer {}) imports {used}", rank + 1)),
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let graph = imports();
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(module) = todo.pop() {
            for next in graph.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let circles: Vec<String> = graph
        .keys()
        .filter(|module| reach(module).contains(*module))
        .map(|module| format!("{module} -> {:?}", graph[module]))
        .collect();
    assert!(circles.is_empty(), "{circles:#?}");
}

#[test]
fn the_checker_sees_imports_and_circles() {
    let root = root_names("mod a;\nmod b;\npub use b::{Thing, Other};\n");
    let code = code(
        "use crate::a::X;\n// crate::c\nfn f() -> crate::Thing { crate::{a, b::Y} }\n#[cfg(test)]\nmod tests { use crate::z; }",
    );
    let used: Vec<_> =
        crate_paths(&code).iter().filter_map(|name| module_of(name, &root)).collect();
    assert_eq!(used, ["a", "b", "a", "b"]);
}

#[test]
fn the_library_names_no_option_of_its_cli() {
    let mut named = Vec::new();
    for (path, text) in library_files("rs").into_iter().chain(library_files("md")) {
        for (number, line) in text.lines().enumerate() {
            let option = line.split("--").skip(1).find(|rest| {
                rest.starts_with(|c: char| c.is_ascii_lowercase()) && !line.contains("://")
            });
            if option.is_some() {
                named.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(named.is_empty(), "{named:#?}");
}
