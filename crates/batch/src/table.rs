//! The results table: one row per run, written in plan order as runs finish, to a CSV
//! file (flushed row by row: it is also the journal a resumed batch reads back) and a
//! Parquet file (row groups written as they fill). Nothing holds more than a few rows.
//!
//! Floats are written in Rust's shortest round-trip form, so a row read back from the
//! CSV (on resume or merge) is bit-identical to the row that was computed.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::error::BatchError;

/// Rows buffered before they go to the Parquet writer as one record batch. Chunks are
/// counted from the first row, so a resumed batch cuts the same chunks.
const CHUNK: usize = 64;

/// Rows per Parquet row group.
const ROW_GROUP: usize = 1024;

/// The columns of a batch's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// Axis columns: name and whether numeric.
    pub axes: Vec<(String, bool)>,
    pub metrics: Vec<String>,
}

impl Columns {
    pub fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = ["run_index", "run_id", "seed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        h.extend(self.axes.iter().map(|(n, _)| n.clone()));
        h.push("status".into());
        h.push("error".into());
        h.extend(self.metrics.iter().cloned());
        h
    }

    fn schema(&self) -> Arc<Schema> {
        let mut f = vec![
            Field::new("run_index", DataType::UInt64, false),
            Field::new("run_id", DataType::Utf8, false),
            Field::new("seed", DataType::UInt64, false),
        ];
        for (n, numeric) in &self.axes {
            f.push(Field::new(
                n,
                if *numeric {
                    DataType::Float64
                } else {
                    DataType::Utf8
                },
                false,
            ));
        }
        f.push(Field::new("status", DataType::Utf8, false));
        f.push(Field::new("error", DataType::Utf8, true));
        for m in &self.metrics {
            f.push(Field::new(m, DataType::Float64, true));
        }
        Arc::new(Schema::new(f))
    }
}

/// One run's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub index: u64,
    pub run_id: String,
    pub seed: u64,
    /// Axis values as text (numbers in shortest round-trip form).
    pub axes: Vec<String>,
    /// None: the run finished; Some: why it failed.
    pub error: Option<String>,
    /// Metric values (NaN where undefined; all NaN for a failed run).
    pub metrics: Vec<f64>,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    fn fields(&self) -> Vec<String> {
        let mut f = vec![
            self.index.to_string(),
            self.run_id.clone(),
            self.seed.to_string(),
        ];
        f.extend(self.axes.iter().cloned());
        f.push(if self.ok() { "ok" } else { "failed" }.into());
        f.push(self.error.clone().unwrap_or_default());
        f.extend(self.metrics.iter().map(|x| {
            if x.is_nan() {
                String::new()
            } else {
                format!("{x:?}")
            }
        }));
        f
    }

    fn from_fields(cols: &Columns, f: &[String]) -> Option<Row> {
        let na = cols.axes.len();
        if f.len() != 5 + na + cols.metrics.len() {
            return None;
        }
        let status = &f[3 + na];
        let error = match status.as_str() {
            "ok" => None,
            "failed" => Some(f[4 + na].clone()),
            _ => return None,
        };
        let metrics = f[5 + na..]
            .iter()
            .map(|s| {
                if s.is_empty() {
                    Some(f64::NAN)
                } else {
                    s.parse().ok()
                }
            })
            .collect::<Option<Vec<f64>>>()?;
        Some(Row {
            index: f[0].parse().ok()?,
            run_id: f[1].clone(),
            seed: f[2].parse().ok()?,
            axes: f[3..3 + na].to_vec(),
            error,
            metrics,
        })
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut l = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    l.push('\n');
    l
}

/// Reads CSV records one at a time, with the byte offset after each.
pub struct CsvReader<R: Read> {
    r: BufReader<R>,
    pub offset: u64,
}

impl<R: Read> CsvReader<R> {
    pub fn new(r: R) -> Self {
        CsvReader {
            r: BufReader::new(r),
            offset: 0,
        }
    }

    /// The next complete record (ending in a newline), or None at the end or at a torn
    /// last record.
    pub fn record(&mut self) -> std::io::Result<Option<Vec<String>>> {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut consumed = 0u64;
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.r.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                return Ok(None);
            }
            consumed += n as u64;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (quoted, c) {
                    (true, '"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    (true, '"') => quoted = false,
                    (true, c) => field.push(c),
                    (false, '"') => quoted = true,
                    (false, ',') => fields.push(std::mem::take(&mut field)),
                    (false, '\n') => {
                        fields.push(std::mem::take(&mut field));
                        self.offset += consumed;
                        return Ok(Some(fields));
                    }
                    (false, '\r') => {}
                    (false, c) => field.push(c),
                }
            }
        }
    }
}

/// Reads the rows of a results CSV in file order.
pub struct RowReader {
    csv: CsvReader<File>,
    cols: Columns,
}

impl RowReader {
    /// Open `path`, checking its header is `cols`'s.
    pub fn open(path: &Path, cols: &Columns) -> Result<RowReader, BatchError> {
        let f = File::open(path).map_err(|e| BatchError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut csv = CsvReader::new(f);
        let header = csv.record().map_err(|e| BatchError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if header.as_ref() != Some(&cols.header()) {
            return Err(BatchError::OtherBatch {
                dir: path.to_path_buf(),
                message: "its columns are not this batch's".into(),
            });
        }
        Ok(RowReader {
            csv,
            cols: cols.clone(),
        })
    }

    /// The next whole row and the byte offset after it; None at the end or at a torn or
    /// unreadable last row.
    pub fn next_row(&mut self) -> Option<(Row, u64)> {
        let rec = self.csv.record().ok()??;
        let row = Row::from_fields(&self.cols, &rec)?;
        Some((row, self.csv.offset))
    }
}

/// Writes rows to results.csv and results.parquet.
pub struct TableWriter {
    csv: BufWriter<File>,
    parquet: ArrowWriter<File>,
    cols: Columns,
    schema: Arc<Schema>,
    pending: Vec<Row>,
}

impl TableWriter {
    /// Start writing. `csv` is opened for append at `csv_keep` bytes (the rows already
    /// there are kept, and must be passed to [`TableWriter::replay`] so the Parquet file
    /// has them too); a new file gets the header.
    pub fn create(
        csv_path: &Path,
        csv_keep: Option<u64>,
        parquet_path: &Path,
        cols: &Columns,
    ) -> Result<TableWriter, BatchError> {
        let io = |p: &Path, e: std::io::Error| BatchError::Io {
            path: p.to_path_buf(),
            message: e.to_string(),
        };
        let mut csv = match csv_keep {
            Some(len) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(csv_path)
                    .map_err(|e| io(csv_path, e))?;
                f.set_len(len).map_err(|e| io(csv_path, e))?;
                let mut f = f;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0))
                    .map_err(|e| io(csv_path, e))?;
                BufWriter::new(f)
            }
            None => {
                let mut w = BufWriter::new(File::create(csv_path).map_err(|e| io(csv_path, e))?);
                w.write_all(csv_line(&cols.header()).as_bytes())
                    .map_err(|e| io(csv_path, e))?;
                w.flush().map_err(|e| io(csv_path, e))?;
                w
            }
        };
        csv.flush().map_err(|e| io(csv_path, e))?;
        let schema = cols.schema();
        // The writer holds a row group open until it has ROW_GROUP rows, and keeps per
        // column what its encoding and compression need until then. Metric columns (about
        // 200 in the bundled world) hold distinct floats, so they are written plain: a
        // dictionary would keep a hash-table entry per value (about 3 MB more per 1,000
        // rows) and zstd costs a ~96 kB context per column and row group (19 MB allocated
        // and freed every 1,024 rows, which fragmented the heap so that the resident size
        // crept up with the number of runs) for little gain on such values. The text
        // columns (run id, status, error, text axes) and numeric axes keep zstd, and the
        // ones that repeat (status, text axes) a dictionary.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_dictionary_enabled(false)
            .set_column_dictionary_enabled(ColumnPath::from("status"), true)
            .set_created_by("chokepoint batch".into());
        for (name, numeric) in &cols.axes {
            if !numeric {
                props = props.set_column_dictionary_enabled(ColumnPath::from(name.as_str()), true);
            }
        }
        for m in &cols.metrics {
            props = props
                .set_column_compression(ColumnPath::from(m.as_str()), Compression::UNCOMPRESSED);
        }
        let props = props.build();
        let pf = File::create(parquet_path).map_err(|e| io(parquet_path, e))?;
        let parquet = ArrowWriter::try_new(pf, schema.clone(), Some(props))
            .map_err(|e| BatchError::Output(e.to_string()))?;
        Ok(TableWriter {
            csv,
            parquet,
            cols: cols.clone(),
            schema,
            pending: Vec::new(),
        })
    }

    /// A row already in the CSV: to the Parquet file only.
    pub fn replay(&mut self, row: Row) -> Result<(), BatchError> {
        self.push_parquet(row)
    }

    /// A new row: to both files; the CSV is flushed so the row survives a kill.
    pub fn write(&mut self, row: Row) -> Result<(), BatchError> {
        let out = |e: std::io::Error| BatchError::Output(e.to_string());
        self.csv
            .write_all(csv_line(&row.fields()).as_bytes())
            .map_err(out)?;
        self.csv.flush().map_err(out)?;
        self.push_parquet(row)
    }

    fn push_parquet(&mut self, row: Row) -> Result<(), BatchError> {
        self.pending.push(row);
        if self.pending.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> Result<(), BatchError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let mut arrays: Vec<ArrayRef> = Vec::new();
        let mut u = UInt64Builder::new();
        rows.iter().for_each(|r| u.append_value(r.index));
        arrays.push(Arc::new(u.finish()));
        let mut s = StringBuilder::new();
        rows.iter().for_each(|r| s.append_value(&r.run_id));
        arrays.push(Arc::new(s.finish()));
        let mut u = UInt64Builder::new();
        rows.iter().for_each(|r| u.append_value(r.seed));
        arrays.push(Arc::new(u.finish()));
        for (i, (_, numeric)) in self.cols.axes.iter().enumerate() {
            if *numeric {
                let mut b = Float64Builder::new();
                rows.iter()
                    .for_each(|r| b.append_value(r.axes[i].parse().unwrap_or(f64::NAN)));
                arrays.push(Arc::new(b.finish()));
            } else {
                let mut b = StringBuilder::new();
                rows.iter().for_each(|r| b.append_value(&r.axes[i]));
                arrays.push(Arc::new(b.finish()));
            }
        }
        let mut s = StringBuilder::new();
        rows.iter()
            .for_each(|r| s.append_value(if r.ok() { "ok" } else { "failed" }));
        arrays.push(Arc::new(s.finish()));
        let mut s = StringBuilder::new();
        rows.iter()
            .for_each(|r| s.append_option(r.error.as_deref()));
        arrays.push(Arc::new(s.finish()));
        for m in 0..self.cols.metrics.len() {
            let mut b = Float64Builder::new();
            rows.iter().for_each(|r| {
                let x = r.metrics[m];
                b.append_option((!x.is_nan()).then_some(x))
            });
            arrays.push(Arc::new(b.finish()));
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| BatchError::Output(e.to_string()))?;
        self.parquet
            .write(&batch)
            .map_err(|e| BatchError::Output(e.to_string()))
    }

    /// Write the last rows and close the Parquet file.
    pub fn finish(mut self) -> Result<(), BatchError> {
        self.flush_chunk()?;
        self.csv
            .flush()
            .map_err(|e| BatchError::Output(e.to_string()))?;
        self.parquet
            .close()
            .map_err(|e| BatchError::Output(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_the_csv_bit_for_bit_and_a_torn_row_is_dropped() {
        let cols = Columns {
            axes: vec![("a.b".into(), true), ("nation.X.strategy".into(), false)],
            metrics: vec!["m1".into(), "m2".into()],
        };
        let dir =
            std::env::temp_dir().join(format!("chokepoint-batch-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (csv, pq) = (dir.join("r.csv"), dir.join("r.parquet"));
        let rows = vec![
            Row {
                index: 0,
                run_id: "aa".into(),
                seed: 7,
                axes: vec!["0.1".into(), "passive".into()],
                error: None,
                metrics: vec![0.1 + 0.2, f64::NAN],
            },
            Row {
                index: 1,
                run_id: "bb".into(),
                seed: 8,
                axes: vec!["2".into(), "a,b".into()],
                error: Some("plugin \"x\" failed,\n  at tick 3".into()),
                metrics: vec![f64::NAN, f64::NAN],
            },
        ];
        let mut w = TableWriter::create(&csv, None, &pq, &cols).unwrap();
        for r in &rows {
            w.write(r.clone()).unwrap();
        }
        w.finish().unwrap();
        // A torn last record.
        let mut f = std::fs::OpenOptions::new().append(true).open(&csv).unwrap();
        f.write_all(b"2,cc,9,1,x,ok,,1.0").unwrap();
        let mut r = RowReader::open(&csv, &cols).unwrap();
        let a = r.next_row().unwrap().0;
        assert_eq!(a.metrics[0].to_bits(), (0.1f64 + 0.2).to_bits());
        assert!(a.metrics[1].is_nan());
        assert_eq!(
            format!("{:?}", r.next_row().unwrap().0),
            format!("{:?}", rows[1])
        );
        assert!(r.next_row().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metric_columns_are_plain_and_text_columns_compressed() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let cols = Columns {
            axes: vec![("nation.X.strategy".into(), false)],
            metrics: vec!["m1".into(), "m2".into()],
        };
        let dir = std::env::temp_dir().join(format!(
            "chokepoint-batch-table-plain-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (csv, pq) = (dir.join("r.csv"), dir.join("r.parquet"));
        let mut w = TableWriter::create(&csv, None, &pq, &cols).unwrap();
        for i in 0..3u64 {
            w.write(Row {
                index: i,
                run_id: format!("id{i}"),
                seed: i,
                axes: vec!["passive".into()],
                error: None,
                metrics: vec![i as f64 * 0.5, 1.0],
            })
            .unwrap();
        }
        w.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&pq).unwrap()).unwrap();
        let group = reader.metadata().row_group(0);
        let chunk = |name: &str| {
            (0..group.num_columns())
                .map(|c| group.column(c))
                .find(|c| c.column_path().string() == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        };
        for m in ["m1", "m2"] {
            assert_eq!(chunk(m).compression(), Compression::UNCOMPRESSED, "{m}");
            assert_eq!(chunk(m).dictionary_page_offset(), None, "{m}");
        }
        assert!(matches!(
            chunk("run_id").compression(),
            Compression::ZSTD(_)
        ));
        assert_eq!(chunk("run_id").dictionary_page_offset(), None);
        assert!(chunk("status").dictionary_page_offset().is_some());
        assert!(
            chunk("nation.X.strategy")
                .dictionary_page_offset()
                .is_some()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
