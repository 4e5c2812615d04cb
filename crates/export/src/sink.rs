//! Where rows go: one Parquet or CSV file per table, written under a `.partial` name and
//! renamed into place only when the whole export succeeded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, StringBuilder, StringDictionaryBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::ExportError;
use crate::schema::{ColumnType, TABLES, TableDef};

/// One value of a row, in the column's type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Tick(u64),
    Count(u32),
    Flag(bool),
    Name(&'a str),
    OptName(Option<&'a str>),
    Text(Option<&'a str>),
    Num(f64),
    OptNum(Option<f64>),
}

/// A finished table file.
pub(crate) struct Written {
    pub file: PathBuf,
    pub rows: u64,
    pub bytes: u64,
}

pub(crate) trait Sink {
    /// Append one row to `table`; `row` has one cell per column, in column order.
    fn push(&mut self, table: usize, row: &[Cell<'_>]) -> Result<(), ExportError>;
    /// Rows of `table` held in memory, not yet handed to the file writer.
    fn buffered_rows(&self, table: usize) -> usize;
    /// Hand what is buffered of `table` to its file.
    fn flush_table(&mut self, table: usize) -> Result<(), ExportError>;
    /// Close every file and move it into place.
    fn finish(self: Box<Self>) -> Result<Vec<Written>, ExportError>;
    /// Remove the partial files (after an error).
    fn abandon(self: Box<Self>);
}

fn partial(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn move_into_place(path: &Path) -> Result<u64, ExportError> {
    let from = partial(path);
    std::fs::rename(&from, path).map_err(io_error(path))?;
    Ok(std::fs::metadata(path).map_err(io_error(path))?.len())
}

fn cell_type_mismatch(table: &TableDef, column: usize, cell: &Cell<'_>) -> ! {
    // The row builders and the table definitions live in this crate: a mismatch is a
    // bug here, caught by the tests that export every table.
    panic!(
        "internal error: table {} column {} ({:?}) got cell {cell:?}",
        table.name, table.columns[column].0, table.columns[column].1
    )
}

// ---------------------------------------------------------------------------------------
// Parquet

enum ColumnBuilder {
    Tick(UInt64Builder),
    Count(UInt32Builder),
    Flag(BooleanBuilder),
    Name(StringDictionaryBuilder<Int32Type>),
    Text(StringBuilder),
    Num(Float64Builder),
}

impl ColumnBuilder {
    fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Tick => ColumnBuilder::Tick(UInt64Builder::new()),
            ColumnType::Count => ColumnBuilder::Count(UInt32Builder::new()),
            ColumnType::Flag => ColumnBuilder::Flag(BooleanBuilder::new()),
            ColumnType::Name | ColumnType::OptName => {
                ColumnBuilder::Name(StringDictionaryBuilder::new())
            }
            ColumnType::Text => ColumnBuilder::Text(StringBuilder::new()),
            ColumnType::Number | ColumnType::OptNumber => ColumnBuilder::Num(Float64Builder::new()),
        }
    }

    /// False when the cell does not fit the column.
    fn append(&mut self, cell: &Cell<'_>) -> bool {
        match (self, *cell) {
            (ColumnBuilder::Tick(b), Cell::Tick(v)) => b.append_value(v),
            (ColumnBuilder::Count(b), Cell::Count(v)) => b.append_value(v),
            (ColumnBuilder::Flag(b), Cell::Flag(v)) => b.append_value(v),
            (ColumnBuilder::Name(b), Cell::Name(v)) => b.append_value(v),
            (ColumnBuilder::Name(b), Cell::OptName(v)) => b.append_option(v),
            (ColumnBuilder::Text(b), Cell::Text(v)) => b.append_option(v),
            (ColumnBuilder::Num(b), Cell::Num(v)) => b.append_value(v),
            (ColumnBuilder::Num(b), Cell::OptNum(v)) => b.append_option(v),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Tick(b) => Arc::new(b.finish()),
            ColumnBuilder::Count(b) => Arc::new(b.finish()),
            ColumnBuilder::Flag(b) => Arc::new(b.finish()),
            ColumnBuilder::Name(b) => Arc::new(b.finish()),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Num(b) => Arc::new(b.finish()),
        }
    }
}

struct ParquetTable {
    def: &'static TableDef,
    path: PathBuf,
    schema: Arc<Schema>,
    writer: ArrowWriter<File>,
    builders: Vec<ColumnBuilder>,
    buffered: usize,
    rows: u64,
}

pub(crate) struct ParquetSink {
    tables: Vec<ParquetTable>,
}

impl ParquetSink {
    /// Create one `.parquet.partial` file per table in `dir`, each carrying `metadata`
    /// (plus its own table name) in its key-value metadata.
    pub fn create(
        dir: &Path,
        metadata: &[(String, String)],
        max_row_group_rows: usize,
    ) -> Result<Self, ExportError> {
        let mut tables = Vec::new();
        for def in TABLES {
            let path = dir.join(format!("{}.parquet", def.name));
            let mut kv: Vec<KeyValue> = metadata
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                .collect();
            kv.push(KeyValue::new(
                "chokepoint.table".to_string(),
                def.name.to_string(),
            ));
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_dictionary_enabled(true)
                .set_max_row_group_row_count(Some(max_row_group_rows.max(1)))
                .set_key_value_metadata(Some(kv))
                .build();
            let file = File::create(partial(&path)).map_err(io_error(&path))?;
            let schema = def.arrow_schema();
            let writer =
                ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|source| {
                    ExportError::Parquet {
                        path: path.clone(),
                        source,
                    }
                })?;
            tables.push(ParquetTable {
                def,
                path,
                schema,
                writer,
                builders: def
                    .columns
                    .iter()
                    .map(|&(_, ty)| ColumnBuilder::new(ty))
                    .collect(),
                buffered: 0,
                rows: 0,
            });
        }
        Ok(ParquetSink { tables })
    }
}

impl Sink for ParquetSink {
    fn push(&mut self, table: usize, row: &[Cell<'_>]) -> Result<(), ExportError> {
        let t = &mut self.tables[table];
        assert_eq!(
            row.len(),
            t.builders.len(),
            "internal error: row width of table {}",
            t.def.name
        );
        for (k, (b, cell)) in t.builders.iter_mut().zip(row).enumerate() {
            if !b.append(cell) {
                cell_type_mismatch(t.def, k, cell);
            }
        }
        t.buffered += 1;
        Ok(())
    }

    fn buffered_rows(&self, table: usize) -> usize {
        self.tables[table].buffered
    }

    fn flush_table(&mut self, table: usize) -> Result<(), ExportError> {
        let t = &mut self.tables[table];
        if t.buffered == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = t.builders.iter_mut().map(|b| b.finish()).collect();
        let batch =
            RecordBatch::try_new(t.schema.clone(), columns).map_err(|e| ExportError::Parquet {
                path: t.path.clone(),
                source: e.into(),
            })?;
        t.writer
            .write(&batch)
            .map_err(|source| ExportError::Parquet {
                path: t.path.clone(),
                source,
            })?;
        t.rows += t.buffered as u64;
        t.buffered = 0;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<Written>, ExportError> {
        for k in 0..self.tables.len() {
            self.flush_table(k)?;
        }
        let mut out = Vec::new();
        for t in self.tables {
            t.writer.close().map_err(|source| ExportError::Parquet {
                path: t.path.clone(),
                source,
            })?;
            let bytes = move_into_place(&t.path)?;
            out.push(Written {
                file: t.path,
                rows: t.rows,
                bytes,
            });
        }
        Ok(out)
    }

    fn abandon(self: Box<Self>) {
        for t in self.tables {
            drop(t.writer);
            let _ = std::fs::remove_file(partial(&t.path));
        }
    }
}

// ---------------------------------------------------------------------------------------
// CSV

struct CsvTable {
    def: &'static TableDef,
    path: PathBuf,
    out: BufWriter<File>,
    buffered: usize,
    rows: u64,
}

/// CSV as the run's tables write it: a header line, one line per row ending in `\n`,
/// fields quoted when they hold a comma, quote or line break (RFC 4180), floats in
/// Rust's shortest round-trip form, nulls as empty fields.
pub(crate) struct CsvSink {
    tables: Vec<CsvTable>,
    line: String,
}

impl CsvSink {
    pub fn create(dir: &Path) -> Result<Self, ExportError> {
        let mut tables = Vec::new();
        for def in TABLES {
            let path = dir.join(format!("{}.csv", def.name));
            let file = File::create(partial(&path)).map_err(io_error(&path))?;
            let mut out = BufWriter::with_capacity(1 << 16, file);
            writeln!(out, "{}", def.csv_header()).map_err(io_error(&path))?;
            tables.push(CsvTable {
                def,
                path,
                out,
                buffered: 0,
                rows: 0,
            });
        }
        Ok(CsvSink {
            tables,
            line: String::new(),
        })
    }
}

/// Append `s` to `line`, quoted when it needs it (RFC 4180).
fn push_field(line: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&s.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(s);
    }
}

impl Sink for CsvSink {
    fn push(&mut self, table: usize, row: &[Cell<'_>]) -> Result<(), ExportError> {
        use std::fmt::Write as _;
        let t = &mut self.tables[table];
        assert_eq!(
            row.len(),
            t.def.columns.len(),
            "internal error: row width of table {}",
            t.def.name
        );
        let line = &mut self.line;
        line.clear();
        for (k, cell) in row.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            let ty = t.def.columns[k].1;
            let fits = match (ty, *cell) {
                (ColumnType::Tick, Cell::Tick(v)) => write!(line, "{v}").is_ok(),
                (ColumnType::Count, Cell::Count(v)) => write!(line, "{v}").is_ok(),
                (ColumnType::Flag, Cell::Flag(v)) => write!(line, "{v}").is_ok(),
                (ColumnType::Name, Cell::Name(v))
                | (ColumnType::OptName, Cell::OptName(Some(v)))
                | (ColumnType::Text, Cell::Text(Some(v))) => {
                    push_field(line, v);
                    true
                }
                (ColumnType::OptName, Cell::OptName(None))
                | (ColumnType::Text, Cell::Text(None))
                | (ColumnType::OptNumber, Cell::OptNum(None)) => true,
                (ColumnType::Number, Cell::Num(v))
                | (ColumnType::OptNumber, Cell::OptNum(Some(v))) => write!(line, "{v}").is_ok(),
                _ => false,
            };
            if !fits {
                cell_type_mismatch(t.def, k, cell);
            }
        }
        line.push('\n');
        t.out
            .write_all(line.as_bytes())
            .map_err(io_error(&t.path))?;
        t.buffered += 1;
        Ok(())
    }

    fn buffered_rows(&self, table: usize) -> usize {
        self.tables[table].buffered
    }

    fn flush_table(&mut self, table: usize) -> Result<(), ExportError> {
        let t = &mut self.tables[table];
        t.out.flush().map_err(io_error(&t.path))?;
        t.rows += t.buffered as u64;
        t.buffered = 0;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<Written>, ExportError> {
        for k in 0..self.tables.len() {
            self.flush_table(k)?;
        }
        let mut out = Vec::new();
        for t in self.tables {
            let file = t.out.into_inner().map_err(|e| ExportError::Io {
                path: t.path.clone(),
                source: e.into_error(),
            })?;
            drop(file);
            let bytes = move_into_place(&t.path)?;
            out.push(Written {
                file: t.path,
                rows: t.rows,
                bytes,
            });
        }
        Ok(out)
    }

    fn abandon(self: Box<Self>) {
        for t in self.tables {
            drop(t.out);
            let _ = std::fs::remove_file(partial(&t.path));
        }
    }
}
