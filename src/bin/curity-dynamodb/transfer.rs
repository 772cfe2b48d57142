//! `export` and `import`.

use std::process::ExitCode;

use curity_dynamodb::transfer::{
    ExportOptions, ImportOptions, TransferError, export_table, import_table,
};

use crate::{Failure, progress::Reporter};

fn failure(e: TransferError) -> Failure {
    let code = e.exit_code();
    let error = match e {
        TransferError::Store(s) => anyhow::anyhow!(s.full()),
        other => anyhow::anyhow!(other),
    };
    Failure { code, error }
}

pub async fn export(opts: &ExportOptions<'_>, tables: &[&str]) -> Result<ExitCode, Failure> {
    curity_dynamodb::transfer::private_dir(opts.dir)
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
        opts.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn import(opts: &ImportOptions<'_>, tables: &[&str]) -> Result<ExitCode, Failure> {
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
            opts.prefix, r.lines, r.written, r.kept, r.expired, r.table_items
        );
    }
    println!("done: {written} items written, {kept} kept");
    Ok(ExitCode::SUCCESS)
}
