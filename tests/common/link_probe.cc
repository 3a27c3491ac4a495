// An empty program: kit_link_check links one library into it whole (every object file of it,
// with --no-as-needed), so that the link succeeding proves the library's own link interface
// resolves all it uses, and the program's NEEDED entries show everything that interface pulls in.
int main() { return 0; }
