/// What the static decisions need to know about a file, captured by one `stat`.
///
/// `device`/`inode` let the responder check, after `open` + `fstat`, that it opened the very
/// file that was resolved (a rename or symlink swap in between would change them).
public struct FileInfo: Sendable, Hashable {
    /// Size in bytes.
    public var size: Int
    /// Last modification, whole seconds since the epoch (what HTTP dates and ETags use).
    public var mtimeSeconds: Int
    /// Sub-second part of the last modification, 0..<1_000_000_000.
    public var mtimeNanoseconds: Int
    public var device: UInt64
    public var inode: UInt64

    public init(size: Int, mtimeSeconds: Int, mtimeNanoseconds: Int = 0, device: UInt64 = 0, inode: UInt64 = 0) {
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.device = device
        self.inode = inode
    }
}
