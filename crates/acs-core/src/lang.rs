//! Source languages understood by the symbol extractor, and the mapping from
//! file paths to languages.

/// A language with a tree-sitter grammar compiled into the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Python (`.py`, `.pyi`).
    Python,
    /// JavaScript (`.js`, `.mjs`, `.cjs`, `.jsx`).
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// Go.
    Go,
    /// Rust.
    Rust,
    /// Java.
    Java,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 7] = [
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Go,
        Lang::Rust,
        Lang::Java,
    ];
    /// Detects the language from the file extension of `path` (ASCII
    /// case-insensitive):
    /// `.py .pyi` -> Python; `.js .mjs .cjs .jsx` -> JavaScript;
    /// `.ts .mts .cts` -> TypeScript (so `.d.ts` too); `.tsx` -> Tsx;
    /// `.go` -> Go; `.rs` -> Rust; `.java` -> Java. Anything else: `None`.
    ///
    /// Both `/` and `\` separate directories. Like `std::path::Path::extension`,
    /// a dot-file without a further dot (`.py`) has no extension.
    pub fn from_path(path: &str) -> Option<Lang> {
        let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let (stem, ext) = file_name.rsplit_once('.')?;
        if stem.is_empty() || ext.len() > 4 {
            return None;
        }
        let ext = ext.to_ascii_lowercase();
        let lang = match ext.as_str() {
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "rs" => Lang::Rust,
            "java" => Lang::Java,
            _ => return None,
        };
        Some(lang)
    }

    /// Lowercase name; identical to the serde representation.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::Rust => "rust",
            Lang::Java => "java",
        }
    }

    /// The crate that compiles this language's grammar into the binary (TypeScript and TSX
    /// share one).
    pub fn grammar_crate(self) -> &'static str {
        match self {
            Lang::Python => "tree-sitter-python",
            Lang::JavaScript => "tree-sitter-javascript",
            Lang::TypeScript | Lang::Tsx => "tree-sitter-typescript",
            Lang::Go => "tree-sitter-go",
            Lang::Rust => "tree-sitter-rust",
            Lang::Java => "tree-sitter-java",
        }
    }

    /// The tree-sitter grammar for this language.
    pub fn ts_language(self) -> tree_sitter::Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    const ALL: [Lang; 7] = Lang::ALL;

    #[test]
    fn from_path_maps_every_documented_extension() {
        let cases = [
            ("a.py", Lang::Python),
            ("stubs/a.pyi", Lang::Python),
            ("a.js", Lang::JavaScript),
            ("a.mjs", Lang::JavaScript),
            ("a.cjs", Lang::JavaScript),
            ("src/App.jsx", Lang::JavaScript),
            ("a.ts", Lang::TypeScript),
            ("types/index.d.ts", Lang::TypeScript),
            ("a.mts", Lang::TypeScript),
            ("a.cts", Lang::TypeScript),
            ("src/App.tsx", Lang::Tsx),
            ("cmd/main.go", Lang::Go),
            ("src/lib.rs", Lang::Rust),
            ("com/x/Main.java", Lang::Java),
            ("C:\\src\\Main.JAVA", Lang::Java),
            ("weird.dir.v2/x.PY", Lang::Python),
        ];
        for (path, want) in cases {
            assert_eq!(Lang::from_path(path), Some(want), "{path}");
        }
    }

    #[test]
    fn from_path_rejects_unknown_or_missing_extensions() {
        for path in [
            "",
            "Makefile",
            "a.c",
            "a.pyc",
            "a.json",
            ".py",
            "dir.py/file",
            "a.",
            "a.rs.bak",
            "a.typescript",
        ] {
            assert_eq!(Lang::from_path(path), None, "{path}");
        }
    }

    #[test]
    fn name_matches_serde_representation() {
        type Str<'a> = serde::de::value::StrDeserializer<'a, serde::de::value::Error>;
        for lang in ALL {
            let parsed = <Lang as serde::Deserialize>::deserialize(Str::new(lang.name()));
            assert_eq!(parsed, Ok(lang), "{}", lang.name());
        }
        assert_eq!(Lang::JavaScript.name(), "javascript");
        assert_eq!(Lang::TypeScript.name(), "typescript");
        assert_eq!(Lang::Tsx.name(), "tsx");
        let bad = <Lang as serde::Deserialize>::deserialize(Str::new("JavaScript"));
        assert!(bad.is_err());
    }

    #[test]
    fn every_grammar_loads_into_a_parser() {
        for lang in ALL {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&lang.ts_language())
                .unwrap_or_else(|e| panic!("{}: {e}", lang.name()));
        }
    }

    #[test]
    fn every_grammar_crate_is_a_dependency() {
        // `acs --version` reports these crates' versions from Cargo.lock by name.
        let manifest = include_str!("../Cargo.toml");
        for lang in ALL {
            let line = format!("\n{} = ", lang.grammar_crate());
            assert!(
                manifest.contains(&line),
                "{} not in Cargo.toml",
                lang.grammar_crate()
            );
        }
    }
}
