/* test_time.c - being written. */
int main(void) { return 0; }
