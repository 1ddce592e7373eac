// The admin's small helpers; the pages work without them.
// - "select all" checkbox of a changelist
// - a slug filled from the title as you type (data-prepopulate-from)
// - the foreign-key picker: type a name, pick a row, its id goes into the field
(function () {
  "use strict";

  document.querySelectorAll(".select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="_selected"]').forEach(function (row) {
        row.checked = box.checked;
      });
    });
  });

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 255);
  }

  document.querySelectorAll("[data-prepopulate-from]").forEach(function (target) {
    var source = document.getElementById(target.dataset.prepopulateFrom);
    if (!source) return;
    var edited = target.value !== "" && target.value !== slugify(source.value);
    target.addEventListener("input", function () { edited = target.value !== ""; });
    source.addEventListener("input", function () {
      if (!edited) target.value = slugify(source.value);
    });
  });

  document.querySelectorAll(".picker[data-autocomplete]").forEach(function (picker) {
    var idInput = picker.querySelector(".picker-id");
    var label = picker.querySelector(".picker-label");
    var search = document.createElement("input");
    var list = document.createElement("ul");
    var timer = null;
    search.type = "search";
    search.className = "picker-search";
    search.placeholder = "Search…";
    search.setAttribute("aria-label", "Search for " + (idInput.getAttribute("aria-label") || idInput.name));
    search.setAttribute("autocomplete", "off");
    list.className = "picker-results";
    list.setAttribute("role", "listbox");
    picker.appendChild(search);
    picker.appendChild(list);

    function choose(item) {
      idInput.value = item.id;
      label.textContent = item.text;
      list.innerHTML = "";
      search.value = "";
      idInput.focus();
    }

    function show(results) {
      list.innerHTML = "";
      results.forEach(function (item) {
        var option = document.createElement("li");
        option.setAttribute("role", "option");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = item.text + " (#" + item.id + ")";
        button.addEventListener("click", function () { choose(item); });
        option.appendChild(button);
        list.appendChild(option);
      });
    }

    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = picker.dataset.autocomplete + "?q=" + encodeURIComponent(search.value);
        fetch(url, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) { show(data.results); });
      }, 200);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && list.firstChild) {
        event.preventDefault();
        list.firstChild.querySelector("button").focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      var item = event.target.closest("li");
      if (event.key === "ArrowDown" && item.nextSibling) {
        event.preventDefault();
        item.nextSibling.querySelector("button").focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (item.previousSibling ? item.previousSibling.querySelector("button") : search).focus();
      } else if (event.key === "Escape") {
        list.innerHTML = "";
        search.focus();
      }
    });
  });
})();
