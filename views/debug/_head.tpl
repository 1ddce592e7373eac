%# The head of the toolbar's own pages. Expects: title, url.
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{title}} · Debug</title>
  <link rel="stylesheet" href="{{url('static', path='css/site.css')}}">
  <link rel="stylesheet" href="{{url('static', path='css/debug.css')}}">
</head>
<body class="debug-page">
<main class="container">
