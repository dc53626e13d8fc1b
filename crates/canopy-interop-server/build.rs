//! Generates the `MLSClient` service and messages from `proto/mls_client.proto` with protox,
//! a protobuf compiler written in Rust, so that building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/mls_client.proto");
    let descriptors = protox::compile(["mls_client.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
