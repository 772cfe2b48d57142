//! `call`: one gRPC call to a running service, JSON in and out, through the
//! descriptors compiled into this binary (no server reflection needed).
//! Requests are read as proto3 JSON (field names snake_case or camelCase,
//! enums by name); answers are printed with the proto's field names and
//! 64-bit integers as numbers, defaults left out.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context, anyhow};
use bytes::Buf;
use curity_dynamodb::proto::{ErrorDetail, FILE_DESCRIPTOR_SET};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, SerializeOptions,
};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataValue,
    transport::{Certificate, ClientTlsConfig, Endpoint, Identity},
};

use crate::{Failure, args::CallOptions, bad_input};

/// Every service this binary knows: ours and `grpc.health.v1`.
fn pool() -> Result<DescriptorPool, Failure> {
    let mut pool = DescriptorPool::decode(FILE_DESCRIPTOR_SET)
        .context("the compiled-in descriptors")
        .map_err(Failure::from)?;
    pool.decode_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .context("the compiled-in health descriptors")?;
    Ok(pool)
}

pub async fn run(args: CallOptions) -> Result<ExitCode, Failure> {
    let pool = pool()?;
    if args.list {
        let mut listing = String::new();
        for service in pool.services() {
            for method in service.methods() {
                listing.push_str(&format!(
                    "{}/{} ({})\n",
                    service.full_name(),
                    method.name(),
                    method.input().name()
                ));
            }
        }
        print_out(&listing)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = args.method.as_deref() else {
        return Err(bad_input(anyhow!(
            "name a method, e.g. `call AccountService/GetByUserName '{{\"user_name\":\"jane\"}}'` \
             (`call --list` lists them)"
        )));
    };
    let method = find_method(&pool, name).map_err(bad_input)?;
    if method.is_client_streaming() || method.is_server_streaming() {
        return Err(bad_input(anyhow!(
            "{} streams; `call` makes unary calls only (grpcurl speaks streams)",
            method.full_name()
        )));
    }
    let text = match args.request.as_deref() {
        None => "{}".to_owned(),
        Some("-") => std::io::read_to_string(std::io::stdin())
            .context("reading the request from stdin")
            .map_err(bad_input)?,
        Some(text) => text.to_owned(),
    };
    let request = parse_request(method.input(), &text).map_err(bad_input)?;
    let token = match &args.token_file {
        Some(path) => Some(read_token(path).map_err(bad_input)?),
        None => None,
    };
    let channel = connect(&args).await?;

    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| anyhow!("{}: {e}", args.addr))?;
    let mut req = tonic::Request::new(request);
    req.set_timeout(Duration::from_secs(args.timeout.max(1)));
    if let Some(token) = token {
        req.metadata_mut().insert("authorization", token);
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = http::uri::PathAndQuery::try_from(path).map_err(|e| anyhow!("{e}"))?;
    match grpc.unary(req, path, DynamicCodec(method.output())).await {
        Ok(response) => {
            print_out(&(render(response.get_ref())? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(status) => {
            eprintln!("{}", describe_status(&status, &args.addr));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `AccountService/GetById`, `curity.datasource.v1.AccountService/GetById`,
/// `AccountService.GetById`: a service by its full name or its last part.
fn find_method(pool: &DescriptorPool, name: &str) -> anyhow::Result<MethodDescriptor> {
    let (service, method) = name
        .rsplit_once('/')
        .or_else(|| name.rsplit_once('.'))
        .ok_or_else(|| {
            anyhow!("{name:?}: expected SERVICE/METHOD, e.g. SessionService/GetSession")
        })?;
    let services: Vec<_> = pool
        .services()
        .filter(|s| s.full_name() == service || s.name() == service)
        .collect();
    let service = match services.as_slice() {
        [one] => one.clone(),
        [] => {
            let known: Vec<_> = pool.services().map(|s| s.name().to_owned()).collect();
            return Err(anyhow!(
                "no service {service:?}; known: {} (`call --list` shows every method)",
                known.join(", ")
            ));
        }
        _ => return Err(anyhow!("{service:?} is ambiguous: give the full name")),
    };
    service
        .methods()
        .find(|m| m.name() == method)
        .ok_or_else(|| {
            let known: Vec<_> = service.methods().map(|m| m.name().to_owned()).collect();
            anyhow!(
                "{} has no method {method:?}; it has {}",
                service.name(),
                known.join(", ")
            )
        })
}

fn parse_request(desc: MessageDescriptor, text: &str) -> anyhow::Result<DynamicMessage> {
    let mut de = serde_json::Deserializer::from_str(text);
    let message = DynamicMessage::deserialize(desc.clone(), &mut de).map_err(|e| {
        let fields: Vec<_> = desc.fields().map(|f| f.name().to_owned()).collect();
        anyhow!(
            "request ({}): {e}; its fields: {}",
            desc.name(),
            fields.join(", ")
        )
    })?;
    de.end()
        .map_err(|e| anyhow!("request ({}): {e}", desc.name()))?;
    Ok(message)
}

fn render(message: &DynamicMessage) -> Result<String, Failure> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::pretty(&mut out);
    message
        .serialize_with_options(&mut ser, &options)
        .context("rendering the answer")?;
    Ok(String::from_utf8(out).context("rendering the answer")?)
}

fn read_token(path: &std::path::Path) -> anyhow::Result<MetadataValue<tonic::metadata::Ascii>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--token-file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(anyhow!("--token-file {}: empty", path.display()));
    }
    format!("Bearer {token}").parse().map_err(|_| {
        anyhow!(
            "--token-file {}: not a token (one line of ASCII)",
            path.display()
        )
    })
}

async fn connect(args: &CallOptions) -> Result<tonic::transport::Channel, Failure> {
    let tls = args.ca_file.is_some() || args.cert_file.is_some();
    let scheme = if tls { "https" } else { "http" };
    let endpoint = Endpoint::from_shared(format!("{scheme}://{}", args.addr))
        .map_err(|_| bad_input(anyhow!("--addr {:?}: expected HOST:PORT", args.addr)))?
        .connect_timeout(Duration::from_secs(5));
    let endpoint = if tls {
        endpoint
            .tls_config(tls_config(args).map_err(bad_input)?)
            .map_err(|e| bad_input(anyhow!("TLS: {e}")))?
    } else {
        endpoint
    };
    endpoint.connect().await.map_err(|e| {
        Failure::from(anyhow!(
            "cannot reach {}: {}. Is `curity-dynamodb serve` running there?{}",
            args.addr,
            root_cause(&e),
            if tls {
                ""
            } else {
                " (A TLS port needs --ca-file.)"
            }
        ))
    })
}

fn tls_config(args: &CallOptions) -> anyhow::Result<ClientTlsConfig> {
    let read = |flag: &str, path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("{flag} {}", path.display()))
    };
    let mut config = ClientTlsConfig::new();
    if let Some(path) = &args.ca_file {
        config = config.ca_certificate(Certificate::from_pem(read("--ca-file", path)?));
    }
    match (&args.cert_file, &args.key_file) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                read("--cert-file", cert)?,
                read("--key-file", key)?,
            ));
        }
        (None, None) => {}
        _ => return Err(anyhow!("--cert-file and --key-file go together")),
    }
    if let Some(name) = &args.server_name {
        config = config.domain_name(name.clone());
    }
    Ok(config)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `error: NOT_FOUND: ...` and the `ErrorDetail`, one line each.
fn describe_status(status: &Status, addr: &str) -> String {
    let mut out = format!("error: {}: {}", code_name(status.code()), status.message());
    if status.code() == tonic::Code::Unavailable && status.message().contains("transport") {
        out.push_str(&format!(" (is `curity-dynamodb serve` running at {addr}?)"));
    }
    if let Some(detail) =
        curity_dynamodb::api::status::detail(status).filter(|_| !status.details().is_empty())
    {
        out.push_str(&detail_line(&detail));
    }
    out
}

/// The code as gRPC's documentation spells it (`ALREADY_EXISTS`).
fn code_name(code: tonic::Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// Writes the answer; a closed pipe (`| head`) ends the command quietly.
fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow!("writing the answer: {e}").into())
        }
        _ => Ok(()),
    }
}

fn detail_line(detail: &ErrorDetail) -> String {
    let mut line = format!("\ndetail: reason {}", detail.reason().as_str_name());
    for (name, value) in [("field", &detail.field), ("table", &detail.table)] {
        if !value.is_empty() {
            line.push_str(&format!(", {name} {value}"));
        }
    }
    if detail.retryable {
        line.push_str(", retryable");
    }
    line
}

/// Protobuf bytes to and from `DynamicMessage`s of the method's types.
struct DynamicCodec(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.reserve(item.encoded_len());
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding the request: {e}")))
    }
}

struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        let bytes = src.copy_to_bytes(src.remaining());
        DynamicMessage::decode(self.0.clone(), bytes)
            .map(Some)
            .map_err(|e| Status::internal(format!("decoding the answer: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_is_found_by_short_or_full_service_name() {
        let pool = pool().ok().unwrap_or_default();
        for name in [
            "AccountService/GetByUserName",
            "curity.datasource.v1.AccountService/GetByUserName",
            "AccountService.GetByUserName",
        ] {
            let m = find_method(&pool, name);
            assert_eq!(
                m.map(|m| m.full_name().to_owned()).ok().as_deref(),
                Some("curity.datasource.v1.AccountService.GetByUserName"),
                "{name}"
            );
        }
        let health = find_method(&pool, "grpc.health.v1.Health/Check");
        assert!(health.is_ok());
    }

    #[test]
    fn codes_are_spelled_as_grpc_documents_them() {
        assert_eq!(code_name(tonic::Code::AlreadyExists), "ALREADY_EXISTS");
        assert_eq!(code_name(tonic::Code::Ok), "OK");
        assert_eq!(code_name(tonic::Code::Unauthenticated), "UNAUTHENTICATED");
    }

    #[test]
    fn an_unknown_method_names_what_exists() {
        let pool = pool().ok().unwrap_or_default();
        let err = find_method(&pool, "AccountService/GetByName")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("GetByUserName")),
            "{err:?}"
        );
        let err = find_method(&pool, "Acount/Get")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("AccountService")),
            "{err:?}"
        );
    }

    #[test]
    fn a_request_with_an_unknown_field_is_refused_naming_it() {
        let pool = pool().ok().unwrap_or_default();
        let m = find_method(&pool, "AccountService/GetByUserName").ok();
        let input = m.map(|m| m.input());
        let err = input
            .map(|d| parse_request(d, r#"{"username":"jane"}"#))
            .and_then(|r| r.err())
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("username")),
            "{err:?}"
        );
    }
}
