"""Files prepared in the background (province and national exports, bundles of Word forms): requested on a page,
built by the task worker with progress, downloaded by the official who asked for them."""
