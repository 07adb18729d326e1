//! Folders of the data folder that hold what only the server may read (staged ping bodies,
//! mails written as files).

use std::path::Path as FsPath;

/// Creates `dir` (and its parents) readable by the server's user only (0700).
pub fn create_private_dir(dir: &FsPath) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
