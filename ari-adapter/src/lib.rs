//! ari-adapter
