//! Where an input came from: recorded with every input, so that users can find it again.

/// The route an input took into the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A file named on the command line or found in a directory.
    File,
    /// One message of an mbox archive.
    Mbox,
    /// One message file of a Maildir folder.
    Maildir,
    /// One message of an IMAP mailbox (the rua mailbox).
    Imap,
    /// One report POSTed to the HTTPS endpoint (`rua=https:`).
    Https,
}

impl Source {
    /// The stable name stored with each input.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Mbox => "mbox",
            Self::Maildir => "maildir",
            Self::Imap => "imap",
            Self::Https => "https",
        }
    }
}
