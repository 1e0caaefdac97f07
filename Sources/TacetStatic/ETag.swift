/// Entity-tags for static files, in nginx's format so caches stay valid across a switch.
///
/// A strong validator from the last-modification second and the size: cheap (no hashing
/// of content) and it changes on any normal edit. A same-second, same-size rewrite is not
/// detected; nginx accepts the same trade-off.
public enum ETag {
    /// `"<mtime seconds, lowercase hex>-<size, lowercase hex>"`, quotes included.
    public static func make(size: Int, mtime: Int) -> String {
        "\"\(String(mtime, radix: 16))-\(String(size, radix: 16))\""
    }

    /// The tag for a resolved file.
    public static func make(for info: FileInfo) -> String {
        make(size: info.size, mtime: info.mtimeSeconds)
    }
}
