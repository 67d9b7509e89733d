//! The rules of `ARCHITECTURE.md`, checked over the source: the edges (HTTP, the channels) never
//! reach the store or decide who may do what, the lower layers import nothing above them, no
//! import cycle exists between top-level modules, and files stay short.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[test]
fn the_edges_reach_data_only_through_the_domain() {
    let offenders: Vec<String> = ["http", "channels"]
        .iter()
        .flat_map(|edge| rust_files(&src().join(edge)))
        .filter(|file| {
            let code = std::fs::read_to_string(file).unwrap();
            let code = without_tests(&code);
            code.contains("crate::store") || code.contains("hub.store")
        })
        .map(|file| file.display().to_string())
        .collect();

    assert!(
        offenders.is_empty(),
        "these edge files use the store; ask a domain service instead: {offenders:?}"
    );
}

#[test]
fn the_edges_leave_every_role_check_to_the_domain() {
    // `/metrics` is the hub's own counters, not domain data: its check stays with it.
    let offenders: Vec<String> = ["http", "channels"]
        .iter()
        .flat_map(|edge| rust_files(&src().join(edge)))
        .filter(|file| !file.ends_with("http/metrics.rs"))
        .filter(|file| {
            let code = std::fs::read_to_string(file).unwrap();
            without_tests(&code).contains(".require(Action::")
        })
        .map(|file| file.display().to_string())
        .collect();

    assert!(
        offenders.is_empty(),
        "these edge files decide who may do what; the domain's services must: {offenders:?}"
    );
}

#[test]
fn no_import_cycle_exists_between_top_level_modules() {
    let graph = module_graph();

    let cycles: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|cycle| cycle.len() > 1)
        .collect();

    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules: {cycles:?}"
    );
}

#[test]
fn no_source_file_grows_over_400_lines() {
    let long: Vec<(String, usize)> = rust_files(&src())
        .into_iter()
        .map(|file| {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            (file.display().to_string(), lines)
        })
        .filter(|(_, lines)| *lines > 400)
        .collect();

    assert!(long.is_empty(), "split these by responsibility: {long:?}");
}

#[test]
fn the_model_store_bus_zones_and_config_import_no_workflow_or_edge() {
    let graph = module_graph();
    let above = [
        "reports", "notices", "triage", "auth", "channels", "http", "hub", "app",
    ];

    for low in ["model", "store", "bus", "zones", "config", "cap"] {
        let upward: Vec<&String> = graph[low]
            .iter()
            .filter(|used| above.contains(&used.as_str()))
            .collect();
        assert!(upward.is_empty(), "`{low}` imports {upward:?}, above it");
    }
}

#[test]
fn the_cycle_check_finds_a_cycle_and_the_path_reader_reads_grouped_imports() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["a", "c"]), ("c", vec![])]
            .into_iter()
            .map(|(from, to)| (from.to_owned(), to.into_iter().map(str::to_owned).collect()))
            .collect();

    let cycles = strongly_connected(&graph);
    let names =
        crate_paths("use crate::{store::Store, bus::{self, Bus}};\nlet x = crate::zones::f();");

    assert!(
        cycles.contains(&vec!["a".to_owned(), "b".to_owned()]),
        "{cycles:?}"
    );
    assert!(
        names.contains("store") && names.contains("bus") && names.contains("zones"),
        "{names:?}"
    );
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code before its unit tests, which may use anything.
fn without_tests(code: &str) -> &str {
    code.split("#[cfg(test)]").next().unwrap_or(code)
}

/// Top-level module → the top-level modules its code names as `crate::x`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&root) {
        let relative = file.strip_prefix(&root).unwrap();
        let top = relative.iter().next().unwrap().to_string_lossy();
        let top = top.trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        let used = graph.entry(top.clone()).or_default();
        for name in crate_paths(without_tests(&code)) {
            if name != top {
                used.insert(name);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for used in graph.values_mut() {
        used.retain(|name| modules.contains(name));
    }
    graph
}

/// Every `x` in `crate::x`, and in `use crate::{x, y::z}`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').filter_map(|part| first_name(part.trim())));
        } else if let Some(name) = first_name(rest) {
            names.insert(name);
        }
    }
    names
}

fn first_name(path: &str) -> Option<String> {
    let name: String = path
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// Tarjan's strongly connected components.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        components: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            for next in &self.graph[node] {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    component.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                component.sort();
                self.components.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.components
}
