"""The assessment pages, one module per part (bulletins, the monthly assessment, the annual
programme, the leadership dashboard); each module lists its own routes."""
