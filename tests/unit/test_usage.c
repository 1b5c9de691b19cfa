/* test_usage.c - being written. */
int main(void) { return 0; }
