//! `export` and `import`.

use std::{path::Path, process::ExitCode};

use curity_dynamodb::transfer::{
    ExportOptions, ImportOptions, Transfer, TransferError, export_table, import_table,
};

use crate::{Failure, args, connect_for, progress::Reporter};

fn failure(e: TransferError) -> Failure {
    let code = e.exit_code();
    let error = match e {
        TransferError::Store(s) => anyhow::anyhow!(s.full()),
        other => anyhow::anyhow!(other),
    };
    Failure { code, error }
}

/// What differs between the two commands.
pub enum Job {
    Export { segments: u32 },
    Import { concurrency: usize },
}

/// Connects as `on` says and runs `job` over the files in `dir`.
pub async fn run(
    path: Option<&Path>,
    on: args::Transfer,
    dir: &Path,
    job: Job,
) -> Result<ExitCode, Failure> {
    let (aws, config) = connect_for(path, &on.local, on.prefix).await?;
    let client = aws.dynamodb_client();
    let transfer = Transfer {
        client: &client,
        dir,
        prefix: &config.dynamodb.table_name_prefix,
        method: aws.method().as_str(),
        rate: on.rate,
        resume: on.resume,
    };
    let tables = on.which.tables();
    match job {
        Job::Export { segments } => {
            export_tables(&ExportOptions { transfer, segments }, &tables).await
        }
        Job::Import { concurrency } => {
            let opts = ImportOptions {
                transfer,
                concurrency,
            };
            import_tables(&opts, &tables).await
        }
    }
}

async fn export_tables(opts: &ExportOptions<'_>, tables: &[&str]) -> Result<ExitCode, Failure> {
    let dir = opts.transfer.dir;
    curity_dynamodb::transfer::private_dir(dir)
        .await
        .map_err(failure)?;
    let progress = Reporter::new("export");
    let mut items = 0;
    for table in tables {
        let report = export_table(opts, table, &|p| progress.update(p.table, p.done, p.total))
            .await
            .map_err(failure)?;
        progress.finish();
        items += report.items;
        if report.skipped {
            println!(
                "{table}: {} items, exported by an earlier run",
                report.items
            );
        } else {
            println!("{table}: {} items", report.items);
        }
    }
    println!(
        "done: {items} items of {} tables in {}",
        tables.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn import_tables(opts: &ImportOptions<'_>, tables: &[&str]) -> Result<ExitCode, Failure> {
    let progress = Reporter::new("import");
    let (mut written, mut kept) = (0, 0);
    for table in tables {
        let r = import_table(opts, table, &|p| progress.update(p.table, p.done, p.total))
            .await
            .map_err(failure)?;
        progress.finish();
        written += r.written;
        kept += r.kept;
        println!(
            "{}{table}: {} lines: {} written, {} kept (the table has them or newer), {} expired \
             (not written); the table holds {} items",
            opts.transfer.prefix, r.lines, r.written, r.kept, r.expired, r.table_items
        );
    }
    println!("done: {written} items written, {kept} kept");
    Ok(ExitCode::SUCCESS)
}
