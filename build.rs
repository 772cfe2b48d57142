//! Protobuf code generation without a system `protoc`: protox parses the
//! `.proto` files in pure Rust, tonic-prost-build generates the code, and the
//! encoded descriptor set is kept for gRPC server reflection.

use std::{env, fs, io, path::PathBuf};

use prost::Message;

const PROTO_ROOT: &str = "proto";

fn main() -> io::Result<()> {
    let mut protos = Vec::new();
    collect_protos(&PathBuf::from(PROTO_ROOT), &mut protos)?;
    protos.sort();
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let fds = protox::compile(&protos, [PROTO_ROOT])
        .map_err(|e| io::Error::other(format!("protobuf: {e}")))?;
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?);
    fs::write(out_dir.join("descriptor.bin"), fds.encode_to_vec())?;

    // The hot reads' responses are our own types (`proto::wire`): a cache
    // hit sends bytes rendered once instead of converting and encoding.
    let mut config = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true);
    for (message, ours) in WIRE_TYPES {
        config = config.extern_path(format!(".curity.datasource.v1.{message}"), ours);
    }
    config.compile_fds(fds)?;

    // The benchmarks' baseline servers, on the service's own messages;
    // generated apart (`bench/`) so nothing of it reaches the library.
    println!("cargo:rerun-if-changed={BENCH_PROTO}");
    let bench = protox::compile([BENCH_PROTO], [PROTO_ROOT, "benches/proto"])
        .map_err(|e| io::Error::other(format!("protobuf: {e}")))?;
    let bench_out = out_dir.join("bench");
    fs::create_dir_all(&bench_out)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .out_dir(bench_out)
        .extern_path(".curity.datasource.v1", "::curity_dynamodb::proto")
        .compile_fds(bench)
}

const BENCH_PROTO: &str = "benches/proto/baseline.proto";

const WIRE_TYPES: [(&str, &str); 3] = [
    ("AccountResponse", "crate::proto::wire::AccountResponse"),
    (
        "GetTokenByHashResponse",
        "crate::proto::wire::GetTokenByHashResponse",
    ),
    (
        "GetDynamicClientResponse",
        "crate::proto::wire::GetDynamicClientResponse",
    ),
];

fn collect_protos(dir: &PathBuf, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
