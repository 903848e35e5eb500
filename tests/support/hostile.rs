//! Hostile exports for the tests of bounded memory (issue 24), written as they come: a zip bomb
//! of a workbook, a workbook with one long cell.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// A workbook's package of one sheet named `Logg` (and its shared strings when `shared`): the
/// writer, ready for the sheet's part, and the options to start it with.
fn package(
    path: &Path,
    shared: bool,
) -> (zip::ZipWriter<std::fs::File>, zip::write::SimpleFileOptions) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let strings = if shared {
        format!(
            "<Relationship Id=\"rId2\" Type=\"{rel}/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        )
    } else {
        String::new()
    };
    for (name, text) in [
        (
            "[Content_Types].xml".to_string(),
            "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"
                .to_string(),
        ),
        (
            "_rels/.rels".into(),
            format!(
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/workbook.xml".into(),
            format!(
                "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"{rel}\"><sheets><sheet name=\"Logg\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels".into(),
            format!(
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/>{strings}</Relationships>"
            ),
        ),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    (zip, options)
}

/// The start of a sheet and its first row, our columns' names as inline strings.
pub fn sheet_with_header() -> String {
    let mut head = String::from(
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">",
    );
    for (i, h) in loggkoll::records::logs::LOG
        .header_line()
        .split(',')
        .enumerate()
    {
        head.push_str(&format!(
            "<c r=\"{}1\" t=\"inlineStr\"><is><t>{h}</t></is></c>",
            (b'A' + i as u8) as char
        ));
    }
    head.push_str("</row>");
    head
}

/// A workbook of one sheet (inline strings) whose cell A2 holds `huge` bytes of one letter:
/// deflated, a few hundred kB.
pub fn workbook_with_a_huge_cell(path: &Path, huge: usize) {
    let (mut zip, options) = package(path, false);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let head = format!(
        "{}<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>",
        sheet_with_header()
    );
    zip.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..huge >> 20 {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    zip.finish().unwrap();
}

/// A workbook of one sheet whose part is `sheet`.
pub fn write_workbook_sheet(path: &Path, sheet: &str) {
    let (mut zip, options) = package(path, false);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(sheet.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// A workbook whose cell A2 holds `text`.
pub fn write_workbook_text(path: &Path, text: &str) {
    write_workbook_sheet(
        path,
        &format!(
            "{}<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>{text}</t></is></c></row></sheetData></worksheet>",
            sheet_with_header()
        ),
    );
}

/// A workbook of `rows` valid accesses whose every `user_name` is one shared string of `big`
/// bytes: copied into each cell, `rows × big` bytes of text.
pub fn workbook_with_a_shared_bomb(path: &Path, rows: usize, big: usize) {
    let (mut zip, options) = package(path, true);
    let name: String = (0..big)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    zip.start_file("xl/sharedStrings.xml", options).unwrap();
    zip.write_all(format!("<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"{rows}\" uniqueCount=\"1\"><si><t>{name}</t></si></sst>").as_bytes()).unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let cell = |r: usize, c: char, v: &str| {
        format!("<c r=\"{c}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>")
    };
    let mut head = String::from(
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">",
    );
    for (i, h) in [
        "log_id",
        "event_time",
        "source_system",
        "user_id",
        "user_name",
        "access_unit_id",
        "subject_id",
        "action",
    ]
    .iter()
    .enumerate()
    {
        head.push_str(&cell(1, (b'A' + i as u8) as char, h));
    }
    head.push_str("</row>");
    zip.write_all(head.as_bytes()).unwrap();
    for n in 0..rows {
        let r = n + 2;
        let row = format!(
            "<row r=\"{r}\">{}{}{}{}<c r=\"E{r}\" t=\"s\"><v>0</v></c>{}{}{}</row>",
            cell(r, 'A', &format!("S-{n}")),
            cell(r, 'B', "2027-03-01 08:00:00"),
            cell(r, 'C', "treserva"),
            cell(r, 'D', "u1"),
            cell(r, 'F', "EN1"),
            cell(r, 'G', "191212121212"),
            cell(r, 'H', "Läsa"),
        );
        zip.write_all(row.as_bytes()).unwrap();
    }
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    zip.finish().unwrap();
}
