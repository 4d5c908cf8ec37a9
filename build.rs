//! Builds the one C file: INCRBYFLOAT's long double arithmetic (see
//! src/util/ldouble.c for why it is C).

fn main() {
    println!("cargo:rerun-if-changed=src/util/ldouble.c");
    cc::Build::new()
        .file("src/util/ldouble.c")
        .flag_if_supported("-O2")
        .compile("gostore_ldouble");
}
