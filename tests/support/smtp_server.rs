//! A small SMTP server for tests: real SMTP over TCP on 127.0.0.1, one std thread, every
//! message it accepts recorded. It can be told to refuse the next attempts at a chosen stage
//! (`451 4.3.0 try later` at RCPT, `550 5.1.1 no such user`, …), and stopped and started again
//! on the same port, to test a server that is down and comes back.
//!
//! It speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA (dot-unstuffed), RSET, NOOP, QUIT and, when
//! given credentials, AUTH PLAIN and AUTH LOGIN. It offers 8BITMIME but neither STARTTLS nor
//! SMTPUTF8. Every read has a timeout, so a confused client cannot hang a test.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const READ_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_LINE: usize = 64 * 1024;
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The reverse path, without brackets (empty for `MAIL FROM:<>`).
    pub mail_from: String,
    /// The forward paths, without brackets.
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, dot-unstuffed, CRLF line ends, without the final dot.
    pub data: Vec<u8>,
    /// The user that logged in, if any.
    pub user: Option<String>,
}

/// Where in a transaction a refusal is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The greeting; the connection is closed after the reply.
    Greeting,
    Mail,
    Rcpt,
    /// The reply to the DATA command.
    Data,
    /// The reply after the message's final dot.
    EndOfData,
}

#[derive(Debug)]
struct Fault {
    stage: Stage,
    reply: String,
    remaining: usize,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    faults: Mutex<Vec<Fault>>,
    /// Every command line seen, in order (AUTH lines included), for assertions.
    commands: Mutex<Vec<String>>,
    connections: Mutex<usize>,
}

pub struct SmtpServer {
    addr: SocketAddr,
    credentials: Option<(String, String)>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SmtpServer {
    /// A server on a free port that accepts anyone.
    pub fn start() -> SmtpServer {
        SmtpServer::launch(None)
    }

    /// A server that offers AUTH PLAIN and LOGIN and refuses MAIL before a login with these.
    pub fn with_auth(user: &str, password: &str) -> SmtpServer {
        SmtpServer::launch(Some((user.to_owned(), password.to_owned())))
    }

    fn launch(credentials: Option<(String, String)>) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let mut server = SmtpServer {
            addr,
            credentials,
            shared: Arc::new(Shared::default()),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        server.serve(listener);
        server
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port())
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    /// Every command line received so far.
    pub fn commands(&self) -> Vec<String> {
        lock(&self.shared.commands).clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        *lock(&self.shared.connections)
    }

    /// Answers the next `times` arrivals at `stage` with `reply` (`451 4.3.0 try later`)
    /// instead of accepting; the transaction then goes no further.
    pub fn fail_next(&self, times: usize, stage: Stage, reply: &str) {
        lock(&self.shared.faults).push(Fault {
            stage,
            reply: reply.to_owned(),
            remaining: times,
        });
    }

    /// Stops listening and waits for the server thread; connections are then refused.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Listens again on the same port, keeping what was received.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(err) if Instant::now() < deadline => {
                    let _ = err;
                    thread::sleep(Duration::from_millis(50));
                }
                Err(err) => panic!("cannot listen on {} again: {err}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = Arc::clone(&stop);
        let shared = Arc::clone(&self.shared);
        let credentials = self.credentials.clone();
        self.thread = Some(thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        *lock(&shared.connections) += 1;
                        // One client at a time is all the tests need; errors end the session.
                        let _ = Session::new(&shared, credentials.as_ref(), stream)
                            .and_then(|mut s| s.run());
                    }
                    Err(err) if err.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        }));
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Session<'a> {
    shared: &'a Shared,
    credentials: Option<&'a (String, String)>,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    user: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl<'a> Session<'a> {
    fn new(
        shared: &'a Shared,
        credentials: Option<&'a (String, String)>,
        stream: TcpStream,
    ) -> io::Result<Session<'a>> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_write_timeout(Some(READ_TIMEOUT))?;
        Ok(Session {
            shared,
            credentials,
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            user: None,
            mail_from: None,
            rcpt_to: Vec::new(),
        })
    }

    fn reply(&mut self, line: &str) -> io::Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\r\n")?;
        self.writer.flush()
    }

    /// The reply of a pending fault at this stage, consuming one of its uses.
    fn fault(&self, stage: Stage) -> Option<String> {
        let mut faults = lock(&self.shared.faults);
        let fault = faults
            .iter_mut()
            .find(|f| f.stage == stage && f.remaining > 0)?;
        fault.remaining -= 1;
        Some(fault.reply.clone())
    }

    /// One line without its CRLF; `None` at the end of the stream.
    fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') {
            return Err(io::Error::new(ErrorKind::InvalidData, "line too long"));
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }

    fn run(&mut self) -> io::Result<()> {
        if let Some(reply) = self.fault(Stage::Greeting) {
            self.reply(&reply)?;
            return self.close();
        }
        self.reply("220 localhost ESMTP test server")?;
        while let Some(line) = self.read_line()? {
            let line = String::from_utf8_lossy(&line).into_owned();
            lock(&self.shared.commands).push(line.clone());
            let upper = line.to_ascii_uppercase();
            let verb = upper.split(' ').next().unwrap_or("");
            match verb {
                "EHLO" => {
                    self.reset();
                    self.reply("250-localhost greets you")?;
                    self.reply("250-8BITMIME")?;
                    if self.credentials.is_some() {
                        self.reply("250-AUTH PLAIN LOGIN")?;
                    }
                    self.reply("250 SIZE 10485760")?;
                }
                "HELO" => {
                    self.reset();
                    self.reply("250 localhost")?;
                }
                "AUTH" => self.auth(&line)?,
                "MAIL" => self.mail(&line)?,
                "RCPT" => self.rcpt(&line)?,
                "DATA" => self.data()?,
                "RSET" => {
                    self.reset();
                    self.reply("250 2.0.0 ok")?;
                }
                "NOOP" => self.reply("250 2.0.0 ok")?,
                "QUIT" => {
                    self.reply("221 2.0.0 bye")?;
                    return self.close();
                }
                _ => self.reply("502 5.5.2 command not recognised")?,
            }
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        let _ = self.writer.shutdown(Shutdown::Both);
        Ok(())
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    fn auth(&mut self, line: &str) -> io::Result<()> {
        let Some((user, password)) = self.credentials.cloned() else {
            return self.reply("502 5.5.1 AUTH not offered");
        };
        if self.user.is_some() {
            return self.reply("503 5.5.1 already authenticated");
        }
        let mut words = line.split(' ').skip(1);
        let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
        let initial = words.next().map(str::to_owned);
        let given = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(response) => response,
                    None => {
                        self.reply("334 ")?;
                        self.read_text()?
                    }
                };
                let decoded = base64_decode(&response).unwrap_or_default();
                let mut parts = decoded.split(|&b| b == 0).skip(1);
                let user = parts.next().unwrap_or_default().to_vec();
                let password = parts.next().unwrap_or_default().to_vec();
                (user, password)
            }
            "LOGIN" => {
                let user = match initial {
                    Some(user) => user,
                    None => {
                        self.reply("334 VXNlcm5hbWU6")?;
                        self.read_text()?
                    }
                };
                self.reply("334 UGFzc3dvcmQ6")?;
                let password = self.read_text()?;
                (
                    base64_decode(&user).unwrap_or_default(),
                    base64_decode(&password).unwrap_or_default(),
                )
            }
            _ => return self.reply("504 5.5.4 mechanism not supported"),
        };
        if given.0 == user.as_bytes() && given.1 == password.as_bytes() {
            self.user = Some(user);
            self.reply("235 2.7.0 authentication successful")
        } else {
            self.reply("535 5.7.8 authentication credentials invalid")
        }
    }

    fn read_text(&mut self) -> io::Result<String> {
        let line = self
            .read_line()?
            .ok_or_else(|| io::Error::new(ErrorKind::UnexpectedEof, "closed in AUTH"))?;
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn mail(&mut self, line: &str) -> io::Result<()> {
        if self.credentials.is_some() && self.user.is_none() {
            return self.reply("530 5.7.0 authentication required");
        }
        if self.mail_from.is_some() {
            return self.reply("503 5.5.1 nested MAIL");
        }
        let Some(path) = path_after(line, "MAIL FROM:") else {
            return self.reply("501 5.5.4 syntax: MAIL FROM:<address>");
        };
        if let Some(reply) = self.fault(Stage::Mail) {
            return self.reply(&reply);
        }
        self.mail_from = Some(path);
        self.reply("250 2.1.0 ok")
    }

    fn rcpt(&mut self, line: &str) -> io::Result<()> {
        if self.mail_from.is_none() {
            return self.reply("503 5.5.1 MAIL first");
        }
        let Some(path) = path_after(line, "RCPT TO:") else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>");
        };
        if let Some(reply) = self.fault(Stage::Rcpt) {
            return self.reply(&reply);
        }
        self.rcpt_to.push(path);
        self.reply("250 2.1.5 ok")
    }

    fn data(&mut self) -> io::Result<()> {
        if self.mail_from.is_none() || self.rcpt_to.is_empty() {
            return self.reply("503 5.5.1 no valid recipients");
        }
        if let Some(reply) = self.fault(Stage::Data) {
            return self.reply(&reply);
        }
        self.reply("354 end data with <CR><LF>.<CR><LF>")?;
        let mut data = Vec::new();
        loop {
            let line = self
                .read_line()?
                .ok_or_else(|| io::Error::new(ErrorKind::UnexpectedEof, "closed in DATA"))?;
            if line == b"." {
                break;
            }
            // Dot-unstuffing (RFC 5321 4.5.2).
            let line = line.strip_prefix(b".").unwrap_or(&line);
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
            if data.len() > MAX_MESSAGE {
                return Err(io::Error::new(ErrorKind::InvalidData, "message too large"));
            }
        }
        let reply = self.fault(Stage::EndOfData);
        let received = Received {
            mail_from: self.mail_from.take().unwrap_or_default(),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            data,
            user: self.user.clone(),
        };
        match reply {
            Some(reply) => self.reply(&reply),
            None => {
                lock(&self.shared.received).push(received);
                self.reply("250 2.0.0 queued")
            }
        }
    }
}

/// The address in `MAIL FROM:<a@b> PARAMS`, without brackets.
fn path_after(line: &str, prefix: &str) -> Option<String> {
    let head = line.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = line[prefix.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_owned())
}

/// Standard base64 with padding; `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}
