package handlers

// PagingNotConfiguredForTest is what every page request answers.
const PagingNotConfiguredForTest = pagingNotConfigured
